#include "common/sqlite/database.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <atomic>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

namespace tenure::sqlite {
namespace {

namespace fs = std::filesystem;

class DatabaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/tenure-sqlite-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }

  Database openOrDie(const std::string& path) {
    auto db = Database::open(path);
    EXPECT_TRUE(db.isOk()) << db.status().toString();
    return std::move(db).value();
  }

  int64_t count(Database& db, const std::string& table) {
    auto st = db.prepare("SELECT COUNT(*) FROM " + table);
    EXPECT_TRUE(st.isOk()) << st.status().toString();
    auto row = st->step();
    EXPECT_TRUE(row.isOk() && *row);
    return st->columnInt64(0);
  }

  std::string dir_;
};

const std::vector<std::string> kMigrations = {
    "CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE)",
    "ALTER TABLE people ADD COLUMN dept TEXT NOT NULL DEFAULT ''",
};

TEST_F(DatabaseTest, OpenCreatesParentDirectoryAndPrivateFileInWalMode) {
  std::string path = dir_ + "/nested/deeper/x.db";
  Database db = openOrDie(path);
  struct stat sb {};
  ASSERT_EQ(stat(path.c_str(), &sb), 0);
  EXPECT_EQ(sb.st_mode & 0777, 0600);

  auto st = db.prepare("PRAGMA journal_mode");
  ASSERT_TRUE(st.isOk());
  ASSERT_TRUE(*st->step());
  EXPECT_EQ(st->columnText(0), "wal");

  auto fk = db.prepare("PRAGMA foreign_keys");
  ASSERT_TRUE(fk.isOk());
  ASSERT_TRUE(*fk->step());
  EXPECT_EQ(fk->columnInt64(0), 1);

  auto sync = db.prepare("PRAGMA synchronous");
  ASSERT_TRUE(sync.isOk());
  ASSERT_TRUE(*sync->step());
  EXPECT_EQ(sync->columnInt64(0), 1);  // NORMAL
}

TEST_F(DatabaseTest, FullSyncOptionSetsSynchronousFull) {
  auto db = Database::open(dir_ + "/full.db", OpenOptions{.full_sync = true});
  ASSERT_TRUE(db.isOk());
  auto sync = db->prepare("PRAGMA synchronous");
  ASSERT_TRUE(sync.isOk());
  ASSERT_TRUE(*sync->step());
  EXPECT_EQ(sync->columnInt64(0), 2);  // FULL
}

TEST_F(DatabaseTest, OpenUnderAFileReportsAnError) {
  std::string blocker = dir_ + "/file";
  { Database db = openOrDie(blocker); }
  auto db = Database::open(blocker + "/sub/x.db");
  EXPECT_FALSE(db.isOk());
}

TEST_F(DatabaseTest, MigrationsApplyOnceAndReopenKeepsData) {
  std::string path = dir_ + "/m.db";
  {
    Database db = openOrDie(path);
    ASSERT_TRUE(migrate(db, {kMigrations[0]}).isOk());
    EXPECT_EQ(*schemaVersion(db), 1);
    ASSERT_TRUE(db.exec("INSERT INTO people(name) VALUES ('ada')").isOk());
  }
  {
    Database db = openOrDie(path);
    // Step 1 would fail if re-run (table exists), so success proves it is skipped.
    Status st = migrate(db, kMigrations);
    ASSERT_TRUE(st.isOk()) << st.toString();
    EXPECT_EQ(*schemaVersion(db), 2);
    ASSERT_TRUE(migrate(db, kMigrations).isOk());
    EXPECT_EQ(*schemaVersion(db), 2);
    auto q = db.prepare("SELECT name, dept FROM people");
    ASSERT_TRUE(q.isOk());
    ASSERT_TRUE(*q->step());
    EXPECT_EQ(q->columnText(0), "ada");
    EXPECT_EQ(q->columnText(1), "");
    EXPECT_FALSE(*q->step());
  }
}

TEST_F(DatabaseTest, FailedMigrationLeavesVersionAndSchemaUntouched) {
  Database db = openOrDie(dir_ + "/bad.db");
  Status st = migrate(db, {kMigrations[0], "CREATE TABLE t (a); THIS IS NOT SQL"});
  ASSERT_FALSE(st.isOk());
  EXPECT_EQ(*schemaVersion(db), 1);
  auto q = db.prepare("SELECT COUNT(*) FROM sqlite_master WHERE name = 't'");
  ASSERT_TRUE(q.isOk());
  ASSERT_TRUE(*q->step());
  EXPECT_EQ(q->columnInt64(0), 0);
}

TEST_F(DatabaseTest, NewerSchemaIsRefused) {
  Database db = openOrDie(dir_ + "/new.db");
  ASSERT_TRUE(migrate(db, kMigrations).isOk());
  Status st = migrate(db, {kMigrations[0]});
  EXPECT_EQ(st.errorClass(), ErrorClass::kConfig);
}

TEST_F(DatabaseTest, ComponentsMigrateIndependentlyOfTheCoreSchema) {
  Database db = openOrDie(dir_ + "/c.db");
  ASSERT_TRUE(migrate(db, kMigrations).isOk());
  const std::vector<std::string> tickets = {"CREATE TABLE tickets (id TEXT)",
                                            "ALTER TABLE tickets ADD COLUMN state TEXT"};
  ASSERT_TRUE(migrateComponent(db, "tickets", {tickets[0]}).isOk());
  // Re-running step 1 would fail (table exists): the second call must run only step 2.
  Status st = migrateComponent(db, "tickets", tickets);
  ASSERT_TRUE(st.isOk()) << st.toString();
  ASSERT_TRUE(migrateComponent(db, "events", {"CREATE TABLE events (id TEXT)"}).isOk());
  EXPECT_EQ(*schemaVersion(db), 2);  // the core version is untouched
  ASSERT_TRUE(db.exec("INSERT INTO tickets (id, state) VALUES ('t1', 'open')").isOk());
  EXPECT_EQ(migrateComponent(db, "tickets", {tickets[0]}).errorClass(), ErrorClass::kConfig);
  // A failing step leaves the component's version where it was.
  EXPECT_FALSE(migrateComponent(db, "events", {"CREATE TABLE events (id TEXT)", "NOT SQL"}).isOk());
  ASSERT_TRUE(migrateComponent(db, "events",
                               {"CREATE TABLE events (id TEXT)", "CREATE TABLE e2 (x)"}).isOk());
}

TEST_F(DatabaseTest, StatementBindsByIndexAndNameAndReadsColumns) {
  Database db = openOrDie(dir_ + "/s.db");
  ASSERT_TRUE(db.exec("CREATE TABLE t (a TEXT, b INTEGER, c BLOB, d TEXT)").isOk());
  auto ins = db.prepare("INSERT INTO t VALUES (?1, :b, @c, $d)");
  ASSERT_TRUE(ins.isOk());
  std::string blob("\x00\x01\xff", 3);
  ins->bindText(1, "héllo")
      .bindInt64(":b", -(int64_t{1} << 40))
      .bindBlob("@c", blob)
      .bindNull("$d");
  ASSERT_TRUE(ins->run().isOk());
  EXPECT_EQ(db.changes(), 1);
  EXPECT_EQ(db.lastInsertRowId(), 1);

  auto q = db.prepare("SELECT a, b, c, d FROM t");
  ASSERT_TRUE(q.isOk());
  ASSERT_TRUE(*q->step());
  EXPECT_EQ(q->columnCount(), 4);
  EXPECT_EQ(q->columnText(0), "héllo");
  EXPECT_EQ(q->columnInt64(1), -(int64_t{1} << 40));
  EXPECT_EQ(q->columnBlob(2), blob);
  EXPECT_TRUE(q->columnIsNull(3));
  EXPECT_FALSE(q->columnIsNull(0));
  EXPECT_EQ(q->columnText(3), "");
  EXPECT_FALSE(*q->step());

  // Reset allows re-running with new bindings.
  ins->reset();
  ins->bindText(1, "x").bindInt64(2, 2).bindNull(3).bindText(4, "y");
  ASSERT_TRUE(ins->run().isOk());
  EXPECT_EQ(count(db, "t"), 2);
}

TEST_F(DatabaseTest, UnknownNamedParameterIsReportedByStep) {
  Database db = openOrDie(dir_ + "/p.db");
  ASSERT_TRUE(db.exec("CREATE TABLE t (a TEXT)").isOk());
  auto ins = db.prepare("INSERT INTO t VALUES (:a)");
  ASSERT_TRUE(ins.isOk());
  ins->bindText(":nope", "x");
  auto r = ins->step();
  ASSERT_FALSE(r.isOk());
  EXPECT_NE(r.status().message().find(":nope"), std::string::npos);
  EXPECT_EQ(count(db, "t"), 0);
}

TEST_F(DatabaseTest, ErrorsMapToClassesAndKeepSqliteCode) {
  Database db = openOrDie(dir_ + "/e.db");
  ASSERT_TRUE(migrate(db, {kMigrations[0]}).isOk());
  ASSERT_TRUE(db.exec("INSERT INTO people(name) VALUES ('a')").isOk());
  Status dup = db.exec("INSERT INTO people(name) VALUES ('a')");
  EXPECT_EQ(dup.errorClass(), ErrorClass::kConflict);
  EXPECT_EQ(dup.nativeCode(), SQLITE_CONSTRAINT_UNIQUE);

  auto ins = db.prepare("INSERT INTO people(name) VALUES (?)");
  ASSERT_TRUE(ins.isOk());
  ins->bindText(1, "a");
  auto r = ins->step();
  EXPECT_EQ(r.status().errorClass(), ErrorClass::kConflict);

  auto bad = db.prepare("SELECT * FROM no_such_table");
  EXPECT_EQ(bad.status().errorClass(), ErrorClass::kInternal);
  EXPECT_EQ(bad.status().nativeCode(), SQLITE_ERROR);
  EXPECT_NE(bad.status().message().find("no_such_table"), std::string::npos);
}

TEST_F(DatabaseTest, BusyWriterIsTransient) {
  std::string path = dir_ + "/busy.db";
  Database a = openOrDie(path);
  auto b = Database::open(path, OpenOptions{.busy_timeout_ms = 1});
  ASSERT_TRUE(b.isOk());
  auto tx = Transaction::begin(a);
  ASSERT_TRUE(tx.isOk());
  auto tx2 = Transaction::begin(*b);
  ASSERT_FALSE(tx2.isOk());
  EXPECT_EQ(tx2.status().errorClass(), ErrorClass::kTransient);
  EXPECT_EQ(tx2.status().nativeCode() & 0xff, SQLITE_BUSY);
}

TEST_F(DatabaseTest, TransactionRollsBackUnlessCommitted) {
  Database db = openOrDie(dir_ + "/t.db");
  ASSERT_TRUE(db.exec("CREATE TABLE t (a INTEGER)").isOk());
  {
    auto tx = Transaction::begin(db);
    ASSERT_TRUE(tx.isOk());
    EXPECT_TRUE(db.inTransaction());
    ASSERT_TRUE(db.exec("INSERT INTO t VALUES (1)").isOk());
  }
  EXPECT_FALSE(db.inTransaction());
  EXPECT_EQ(count(db, "t"), 0);
  {
    auto tx = Transaction::begin(db);
    ASSERT_TRUE(tx.isOk());
    ASSERT_TRUE(db.exec("INSERT INTO t VALUES (2)").isOk());
    ASSERT_TRUE(tx->commit().isOk());
  }
  EXPECT_EQ(count(db, "t"), 1);
  // A moved-from transaction does not roll back the one it was moved into.
  {
    auto tx = Transaction::begin(db);
    ASSERT_TRUE(tx.isOk());
    Transaction moved = std::move(tx).value();
    ASSERT_TRUE(db.exec("INSERT INTO t VALUES (3)").isOk());
    ASSERT_TRUE(moved.commit().isOk());
  }
  EXPECT_EQ(count(db, "t"), 2);
}

TEST_F(DatabaseTest, ForeignKeysAreEnforced) {
  Database db = openOrDie(dir_ + "/fk.db");
  ASSERT_TRUE(db.exec("CREATE TABLE p (id TEXT PRIMARY KEY);"
                      "CREATE TABLE c (pid TEXT NOT NULL REFERENCES p(id))")
                  .isOk());
  Status st = db.exec("INSERT INTO c VALUES ('missing')");
  EXPECT_EQ(st.errorClass(), ErrorClass::kConflict);
}

TEST_F(DatabaseTest, MovedDatabaseKeepsWorking) {
  Database a = openOrDie(dir_ + "/mv.db");
  Database b = std::move(a);
  EXPECT_FALSE(a.isOpen());  // NOLINT(bugprone-use-after-move)
  EXPECT_TRUE(b.exec("CREATE TABLE t (a)").isOk());
  EXPECT_FALSE(a.exec("SELECT 1").isOk());
}

TEST_F(DatabaseTest, ConcurrentWritersOnSeparateConnectionsAllSucceed) {
  std::string path = dir_ + "/conc.db";
  {
    Database db = openOrDie(path);
    ASSERT_TRUE(db.exec("CREATE TABLE t (v INTEGER)").isOk());
  }
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      auto db = Database::open(path);
      if (!db.isOk()) {
        ++failures;
        return;
      }
      for (int i = 0; i < 50; ++i) {
        auto tx = Transaction::begin(*db);
        if (!tx.isOk() ||
            !db->exec("INSERT INTO t VALUES (" + std::to_string(t * 100 + i) + ")").isOk() ||
            !tx->commit().isOk()) {
          ++failures;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  Database db = openOrDie(path);
  EXPECT_EQ(count(db, "t"), 200);
}

}  // namespace
}  // namespace tenure::sqlite
