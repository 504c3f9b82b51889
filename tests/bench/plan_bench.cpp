// Benchmark: the job planner on one thread, N HR records against a directory of about N accounts
// (issue 3 goal at N = 100,000: under 1 s and under 1 GB). Not a test: run by hand, figures go to
// docs/benchmarks.md.
//
//   tenure_plan_bench [--n N] [--policy default|realistic] [--repeat K]
//
// The directory is not made up attribute by attribute: the existing people are planned as joiners
// against the unmanaged accounts and the plans applied, so an unchanged person really plans
// nothing. Then HR changes: of the N records, 90% are unchanged, 5% movers (department, some
// location and family-name changes), 3% leavers, 2% joiners; the directory also holds 2% of N
// unmanaged accounts (service accounts and people Tenure does not manage, some with names the
// joiners want) and the control plane reserves 1% of N names. Only planAll is timed (a fresh
// JobPlanner each repetition); data generation and the directory snapshot are reported apart.
//
// Prints key=value lines.

#include <malloc.h>
#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/time_zone.h"
#include "common/base/utf8.h"
#include "common/ldap/escape.h"
#include "common/lifecycle/job_planner.h"
#include "common/lifecycle/mailbox.h"
#include "common/policy/policy.h"

namespace tenure::lifecycle {
namespace {

using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// CPU time of this process: on a shared machine, wall time alone overstates the planner's cost.
double cpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// ---- Memory ------------------------------------------------------------------------------------

long minorFaults() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_minflt;
}

long maxRssKb() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

// A field of /proc/self/status in kB (VmRSS, VmHWM), or -1.
long procStatusKb(std::string_view field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.compare(0, field.size(), field) == 0 && line.size() > field.size() &&
        line[field.size()] == ':') {
      return std::strtol(line.c_str() + field.size() + 1, nullptr, 10);
    }
  }
  return -1;
}

// Resets the peak RSS (VmHWM, and with it ru_maxrss) to the current RSS, so that the planning
// phase's peak can be told apart from the data generation's. Linux >= 4.0; false elsewhere.
bool resetPeakRss() {
  std::ofstream out("/proc/self/clear_refs");
  out << "5";
  out.flush();
  return static_cast<bool>(out);
}

// Bytes the allocator has handed out and not taken back: unlike RSS, not blurred by freed memory
// that is reused or kept.
long heapInUseKb() {
  const struct mallinfo2 mi = mallinfo2();
  return static_cast<long>((mi.uordblks + mi.hblkhd) / 1024);
}

// ---- Data --------------------------------------------------------------------------------------

constexpr const char* kBase = "DC=example,DC=com";
constexpr const char* kStaff = "OU=Staff,DC=example,DC=com";
constexpr const char* kLeavers = "OU=Leavers,DC=example,DC=com";
constexpr const char* kServiceOu = "OU=Service Accounts,DC=example,DC=com";
const int64_t kNow = daysFromCivil(2026, 3, 2) * 86400 + 9 * 3600;

// Given names: mostly Latin (some with diacritics), some Cyrillic, Greek, CJK and Arabic.
const std::vector<std::string> kGivens = {
    "Anna",  "Ben",     "Chloé",   "David", "Eva",   "Fatima", "Georg",  "Hiro",    "Inés",
    "Jane",  "John",    "Karin",   "Lars",  "Maria", "Noah",   "Olga",   "Paul",    "Quentin",
    "Rosa",  "Sven",    "Tomás",   "Ulla",  "Vera",  "Wei",    "Xavier", "Yusuf",   "Zoë",
    "Åsa",   "Björn",   "Łukasz",  "Søren", "José",  "Mehmet", "Aoife",  "Siobhán", "Priya",
    "Rahul", "Chen",    "Mei",     "Kwame", "Amara", "Liam",   "Emma",   "Olivia",  "Lucas",
    "Sofía", "Mateo",   "Nina",    "Omar",  "Leila", "Ines",   "Pieter", "Greta",   "Jürgen",
    "Ольга", "Дмитрий", "Γιώργος", "Ελένη", "王",    "李娜",   "さくら", "محمد",    "Иван"};

// Given names in non-Latin scripts (the tail of kGivens), paired with the non-Latin family names:
// a Latin given name with a family name that transliterates to nothing leaves a one-letter
// sAMAccountName base ("l"), and after 100 of those the default rule runs out of candidates.
constexpr size_t kFirstNonLatinGiven = 54;

// Common family names (a quarter of people); the rest are built from syllables for a long tail.
const std::vector<std::string> kCommonFamilies = {
    "Smith",    "Müller",    "O'Brien", "García",     "Nowak",        "Żółć",      "Ångström",
    "Núñez",    "Schmidt",   "Jones",   "Brown",      "Rossi",        "Tanaka",    "Kim",
    "Nguyen",   "Martin",    "Bernard", "Dubois",     "Jensen",       "Hansen",    "Johansson",
    "Kowalski", "Novák",     "Horváth", "Smith, Jr.", "van der Berg", "Dąbrowski", "Øster",
    "Þórsson",  "Đorđević",  "Иванова", "Петров",     "Παπαδόπουλος", "李",        "王",
    "佐藤",     "Al-Hassan", "Okafor",  "Mensah",     "Fernández"};
const std::vector<std::string> kSyllables1 = {
    "Ash", "Bel", "Car", "Dal", "Eck", "Fair", "Gor",  "Hal", "Ing", "Jor",
    "Kel", "Lin", "Mar", "Nor", "Oak", "Pen",  "Quin", "Ros", "Sal", "Tor",
    "Ul",  "Van", "Wes", "Yor", "Zel", "Bré",  "Grü",  "Lø",  "Mé",  "Sö"};
const std::vector<std::string> kSyllables2 = {
    "ford", "berg", "mann", "ton",    "wood",  "stein", "ley",  "sen",   "ez",   "ini",
    "ova",  "ski",  "holm", "dóttir", "ström", "ard",   "well", "ridge", "by",   "thal",
    "ić",   "escu", "oglu", "ney",    "rup",   "worth", "feld", "lund",  "stad", "mond"};

const std::vector<std::string> kDepartments = {"Engineering", "Sales",   "Marketing",  "Finance",
                                               "People",      "Support", "Legal",      "Operations",
                                               "Research",    "Product", "Facilities", "IT"};
const std::vector<std::string> kLocations = {"London", "Berlin", "Munich", "Paris",
                                             "Madrid", "Warsaw", "Tokyo",  "New York"};
const std::vector<std::string> kTitles = {"Engineer", "Analyst",   "Manager",    "Specialist",
                                          "Director", "Associate", "Consultant", "Coordinator"};

std::string dateOf(int64_t days) { return formatIsoDate(days); }

std::string employeeId(size_t i) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "E%07zu", i);
  return buf;
}

struct People {
  std::vector<hr::HrRecord> before;  // the existing managed people as HR had them
  std::vector<hr::HrRecord> now;     // this job: unchanged, movers, leavers, joiners
  size_t unchanged = 0, movers = 0, leavers = 0, joiners = 0;
};

class Generator {
 public:
  explicit Generator(uint32_t seed) : rng_(seed) {}

  size_t pick(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng_); }
  bool chance(double p) { return std::uniform_real_distribution<double>(0, 1)(rng_) < p; }

  // Latin script: ASCII or the Latin letters up to U+024F (two-byte UTF-8 lead bytes up to 0xC9).
  static bool isLatin(const std::string& s) {
    return std::all_of(s.begin(), s.end(), [](char c) {
      const auto u = static_cast<unsigned char>(c);
      return u < 0xCA;
    });
  }

  std::string family() {
    if (chance(0.25)) return kCommonFamilies[pick(kCommonFamilies.size())];
    return kSyllables1[pick(kSyllables1.size())] + kSyllables2[pick(kSyllables2.size())];
  }

  hr::HrRecord person(size_t i, size_t manager_index, bool has_manager) {
    const int64_t today = kNow / 86400;
    hr::HrRecord r;
    r.employee_id = employeeId(i);
    r.family_name = family();
    r.given_name = isLatin(r.family_name)
                       ? kGivens[pick(kFirstNonLatinGiven)]
                       : kGivens[kFirstNonLatinGiven + pick(kGivens.size() - kFirstNonLatinGiven)];
    if (chance(0.05)) r.preferred_name = kGivens[pick(kGivens.size())];
    r.department = kDepartments[pick(kDepartments.size())];
    r.title = kTitles[pick(kTitles.size())];
    r.location = kLocations[pick(kLocations.size())];
    if (has_manager) r.manager_id = employeeId(manager_index);
    const int64_t start = today - 30 - static_cast<int64_t>(pick(3000));
    r.start_date = dateOf(start);
    const double t = std::uniform_real_distribution<double>(0, 1)(rng_);
    if (t < 0.90) {
      r.employment_type = "employee";
    } else if (t < 0.97) {
      r.employment_type = "contractor";  // end date within the 730-day maximum, in the future
      r.start_date = dateOf(today - 30 - static_cast<int64_t>(pick(300)));
      r.end_date = dateOf(today + 30 + static_cast<int64_t>(pick(300)));
    } else if (t < 0.99) {
      r.employment_type = "intern";
      r.start_date = dateOf(today - 30 - static_cast<int64_t>(pick(100)));
      r.end_date = dateOf(today + 30 + static_cast<int64_t>(pick(100)));
    } else {
      r.employment_type = "vendor";
      r.start_date = dateOf(today - 30 - static_cast<int64_t>(pick(300)));
      r.end_date = dateOf(today + 30 + static_cast<int64_t>(pick(300)));
    }
    r.status = chance(0.01) ? "leave" : "active";
    return r;
  }

  People people(size_t n) {
    People out;
    const size_t joiners = n * 2 / 100, leavers = n * 3 / 100, movers = n * 5 / 100;
    const size_t existing = n - joiners;
    // Managers: an 8-way tree over the existing people (a realistic depth of about 6).
    for (size_t i = 0; i < existing; ++i) {
      out.before.push_back(person(i, i == 0 ? 0 : (i - 1) / 8, i != 0));
    }
    // Who changes, chosen at random among the existing people.
    std::vector<size_t> order(existing);
    for (size_t i = 0; i < existing; ++i) order[i] = i;
    std::shuffle(order.begin(), order.end(), rng_);
    std::vector<char> role(existing, 'u');
    for (size_t k = 0; k < movers; ++k) role[order[k]] = 'm';
    for (size_t k = movers; k < movers + leavers; ++k) role[order[k]] = 'l';

    const int64_t today = kNow / 86400;
    for (size_t i = 0; i < existing; ++i) {
      hr::HrRecord r = out.before[i];
      switch (role[i]) {
        case 'm': {
          ++out.movers;
          std::string dept;
          do dept = kDepartments[pick(kDepartments.size())];
          while (dept == r.department);
          r.department = dept;
          r.title = kTitles[pick(kTitles.size())];
          if (chance(0.2)) r.location = kLocations[pick(kLocations.size())];
          if (chance(0.1)) {  // marriage: sn, displayName, cn, mail
            std::string fam;
            do fam = family();
            while (isLatin(fam) != isLatin(r.family_name));
            r.family_name = fam;
          }
          break;
        }
        case 'l':
          ++out.leavers;
          r.status = "terminated";
          if (r.end_date.empty() || chance(0.5)) r.end_date = dateOf(today - 1 - pick(20));
          break;
        default:
          ++out.unchanged;
      }
      out.now.push_back(std::move(r));
    }
    for (size_t k = 0; k < joiners; ++k) {
      // Managers among the existing people; start dates from three days ago to a month out (more
      // than the pre-hire window of 7 days: those are not created yet).
      hr::HrRecord r = person(existing + k, pick(existing), true);
      r.status = "active";
      const int64_t start = today - 3 + static_cast<int64_t>(pick(34));
      r.start_date = dateOf(start);
      if (!r.end_date.empty()) r.end_date = dateOf(start + 200);
      out.now.push_back(std::move(r));
      ++out.joiners;
    }
    std::shuffle(out.now.begin(), out.now.end(), rng_);
    return out;
  }

 private:
  std::mt19937 rng_;
};

// ---- Policies ----------------------------------------------------------------------------------

std::string ouOf(const std::string& name) { return "OU=" + name + "," + kStaff; }
std::string groupOf(const std::string& name) { return "CN=" + name + ",OU=Groups," + kBase; }

policy::Policy realisticPolicy() {
  policy::Policy p = policy::defaultPolicy();
  p.naming.mail_domain = "example.com";
  p.naming.upn_suffix = "example.com";
  p.placement.default_ou = kStaff;
  p.placement.leavers_ou = kLeavers;
  using Rule = policy::PlacementRule;
  p.placement.rules = {
      Rule{.when = {.equals = {{"employment_type", {"contractor", "vendor"}}}},
           .ou = ouOf("External")},
      Rule{.when = {.equals = {{"department", {"Engineering", "Research", "Product"}}}},
           .ou = ouOf("Technology")},
      Rule{.when = {.equals = {{"department", {"Sales", "Marketing"}}}}, .ou = ouOf("Commercial")},
      Rule{.when = {.equals = {{"location", {"Berlin", "Munich"}}}}, .ou = ouOf("Germany")},
      Rule{.when = {.equals = {{"location", {"Tokyo"}}}}, .ou = ouOf("Japan")},
  };
  p.groups.push_back({.when = {.equals = {{"employment_type", {"employee"}}}},
                      .groups = {groupOf("All Staff"), groupOf("Intranet")}});
  p.groups.push_back({.when = {.equals = {{"employment_type", {"contractor", "vendor", "intern"}}}},
                      .groups = {groupOf("Externals")}});
  for (const auto& d : kDepartments) {
    p.groups.push_back(
        {.when = {.equals = {{"department", {d}}}}, .groups = {groupOf("Dept " + d)}});
  }
  for (const auto& l : kLocations) {
    p.groups.push_back({.when = {.equals = {{"location", {l}}}}, .groups = {groupOf("Site " + l)}});
  }
  p.groups.push_back(
      {.when = {.equals = {{"department", {"Engineering"}}, {"location", {"Berlin", "Munich"}}}},
       .groups = {groupOf("Engineering DE")}});
  p.groups.push_back({.when = {.equals = {{"title", {"Manager", "Director"}}}},
                      .groups = {groupOf("People Managers")}});
  p.lifecycle.delete_after_days = 90;
  p.mailbox.mode = "auto";
  p.mailbox.kind = "remote";
  p.mailbox.remote_routing_domain = "example.mail.onmicrosoft.com";
  return p;
}

DesiredContext contextFor(bool realistic) {
  DesiredContext ctx;
  ctx.users_ou = kStaff;
  ctx.leavers_ou = realistic ? "" : kLeavers;  // the realistic policy names its own
  ctx.upn_suffix = "example.com";
  ctx.now_unix = kNow;
  ctx.exchange_available = realistic;
  return ctx;
}

// ---- The directory as the agent reads it ------------------------------------------------------

// Applies a plan to an account the way the directory would, keeping only what the agent reads
// (liveAccountAttributes), as the agent's snapshot does.
std::optional<LiveAccount> applyPlan(std::optional<LiveAccount> live, const Plan& plan,
                                     const std::set<std::string>& readable) {
  for (const Operation& op : plan.operations) {
    switch (op.kind) {
      case OperationKind::kDelete:
        live.reset();
        continue;
      case OperationKind::kCreate:
        live.emplace();
        live->dn = op.dn;
        break;
      case OperationKind::kMove:
      case OperationKind::kRename:
        live->dn = op.new_rdn + "," + (op.target.empty() ? ldap::parentDn(live->dn) : op.target);
        continue;
      case OperationKind::kAddMember:
        live->member_of.push_back(op.target);
        continue;
      case OperationKind::kRemoveMember:
        std::erase_if(live->member_of,
                      [&](const std::string& g) { return ldap::dnEquals(g, op.target); });
        continue;
      default:
        break;
    }
    for (const AttributeChange& m : op.modifications) {
      if (m.attribute == kProxyAddresses) {
        ProxyAddressChange c;
        (m.op == AttributeChange::Op::kDelete ? c.remove : c.add) = m.values;
        if (m.op == AttributeChange::Op::kReplace) live->proxy_addresses.clear();
        live->proxy_addresses = applyProxyAddressChange(live->proxy_addresses, c);
        continue;
      }
      if (m.attribute == "userAccountControl") {
        const std::string& v = m.values.at(0);
        std::from_chars(v.data(), v.data() + v.size(), live->user_account_control);
        continue;
      }
      if (m.attribute == "sAMAccountName") {
        live->sam_account_name = m.values.at(0);
        continue;
      }
      if (m.attribute == "employeeID" && !m.values.empty()) live->employee_id = m.values[0];
      if (!readable.count(m.attribute)) continue;
      if (m.values.empty() || m.op == AttributeChange::Op::kDelete) {
        live->attributes.erase(m.attribute);
      } else {
        live->attributes[m.attribute] = m.values[0];
      }
    }
  }
  return live;
}

// Accounts Tenure does not manage: service accounts, and people created by hand (no employeeID)
// whose names joiners will want.
std::vector<LiveAccount> unmanagedAccounts(size_t count, Generator& gen) {
  std::vector<LiveAccount> out;
  for (size_t i = 0; i < count; ++i) {
    LiveAccount a;
    if (i % 2 == 0) {
      a.sam_account_name = "svc-app" + std::to_string(i);
      a.dn = "CN=" + a.sam_account_name + "," + kServiceOu;
      a.attributes["userPrincipalName"] = a.sam_account_name + "@example.com";
    } else {
      // jsmith-like: an initial plus a common family name (ASCII, numbered like a person's).
      const std::string given = kGivens[gen.pick(27)];  // Latin-script givens
      const std::string fam = i % 3 ? "smith" : "jones";
      a.sam_account_name = asciiLower(given.substr(0, 1)) + fam + std::to_string(i);
      a.dn = "CN=" + given + " " + fam + " " + std::to_string(i) + "," + kStaff;
      a.attributes["userPrincipalName"] = a.sam_account_name + "@example.com";
      a.attributes[kMailAttribute] =
          asciiLower(given) + "." + fam + std::to_string(i) + "@example.com";
      a.attributes["givenName"] = given;
    }
    out.push_back(std::move(a));
  }
  // And the plain ones everybody wants.
  for (const char* sam : {"jsmith", "asmith", "jjones", "admin", "mmueller"}) {
    LiveAccount a;
    a.sam_account_name = sam;
    a.dn = std::string("CN=") + sam + "," + kStaff;
    a.attributes["userPrincipalName"] = std::string(sam) + "@example.com";
    out.push_back(std::move(a));
  }
  return out;
}

std::unique_ptr<InMemoryDirectory> snapshotOf(const std::vector<LiveAccount>& accounts) {
  auto dir = std::make_unique<InMemoryDirectory>();
  for (const auto& a : accounts) dir->addAccount(a);
  return dir;
}

// A digest of everything the plans say (operations with their reasons, states, notes, errors, the
// names chosen), so that a change meant to be faster can be checked to plan exactly the same, not
// just the same number of operations. FNV-1a over length-prefixed fields, in the records' order.
class Digest {
 public:
  void add(std::string_view s) {
    mix(std::to_string(s.size()));
    mix(":");
    mix(s);
  }
  void add(long v) { add(std::to_string(v)); }
  std::string hex() const {
    char buf[20];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h_));
    return buf;
  }

 private:
  void mix(std::string_view s) {
    for (unsigned char c : s) h_ = (h_ ^ c) * 1099511628211ull;
  }
  uint64_t h_ = 14695981039346656037ull;
};

std::string planDigest(const std::vector<PersonPlan>& people) {
  Digest d;
  for (const PersonPlan& p : people) {
    d.add(p.error.toString());
    d.add(p.warning.toString());
    for (const auto& n : p.notes) d.add(n);
    // The names of people whose plan creates, moves or renames the account (the planner keeps
    // no desired state for the others, whose names are the live account's).
    const bool own_ops =
        std::any_of(p.plan.operations.begin(), p.plan.operations.end(), [](const Operation& op) {
          return op.kind == OperationKind::kCreate || op.kind == OperationKind::kMove ||
                 op.kind == OperationKind::kRename;
        });
    if (p.desired && own_ops) {
      const DesiredAccount& a = *p.desired;
      for (const std::string* s : {&a.sam_account_name, &a.upn, &a.mail, &a.cn, &a.display_name})
        d.add(*s);
      d.add(p.sam_index);
      d.add(p.mail_index);
    }
    d.add(p.plan.state);
    d.add(p.plan.note);
    d.add(p.plan.final_dn);
    for (const auto& n : p.plan.notes) d.add(n);
    for (const Operation& op : p.plan.operations) {
      d.add(operationKindName(op.kind));
      d.add(op.dn);
      d.add(op.target);
      d.add(op.new_rdn);
      for (const AttributeChange& m : op.modifications) {
        d.add(static_cast<long>(m.op));
        d.add(m.attribute);
        for (const auto& v : m.values) d.add(v);
        d.add("|");
      }
      d.add(op.reason);
      for (const auto& c : op.changes) d.add(c);
      d.add(op.deferred ? 1 : 0);
      d.add(op.manager_employee_id);
    }
    d.add("#");
  }
  return d.hex();
}

struct Args {
  size_t n = 100000;
  bool realistic = true;
  int repeat = 3;
};

int run(const Args& args) {
  const auto t_gen = Clock::now();
  const policy::Policy pol = args.realistic ? realisticPolicy() : policy::defaultPolicy();
  if (auto errors = policy::validatePolicy(pol); !errors.empty()) {
    std::fprintf(stderr, "invalid policy: %s\n", errors[0].toString().c_str());
    return 1;
  }
  const DesiredContext ctx = contextFor(args.realistic);
  Generator gen(20261122);
  People people = gen.people(args.n);
  std::vector<LiveAccount> unmanaged = unmanagedAccounts(args.n / 50, gen);
  std::vector<std::string> reserved;  // deleted leavers' names, from the control plane
  for (size_t i = 0; i < args.n / 100; ++i) {
    reserved.push_back(asciiLower(kGivens[i % 27].substr(0, 1)) + "gone" + std::to_string(i));
  }
  reserved.push_back("jdoe");

  // Yesterday's state: everyone who exists was created by Tenure under the same policy.
  const std::set<std::string> readable = [] {
    auto v = liveAccountAttributes();
    return std::set<std::string>(v.begin(), v.end());
  }();
  std::vector<LiveAccount> accounts = unmanaged;
  double initial_plan_s = 0;
  size_t initial_errors = 0;
  {
    auto dir = snapshotOf(unmanaged);
    auto planner = JobPlanner::create(pol, ctx, *dir, reserved);
    if (!planner.isOk()) {
      std::fprintf(stderr, "planner: %s\n", planner.status().toString().c_str());
      return 1;
    }
    const auto t0 = Clock::now();
    std::vector<PersonPlan> initial = planner->planAll(std::move(people.before));
    initial_plan_s = secondsSince(t0);
    for (const auto& p : initial) {
      if (!p.error.isOk()) {
        if (initial_errors++ < 3) {
          std::fprintf(stderr, "initial %s: %s\n", p.record->employee_id.c_str(),
                       p.error.toString().c_str());
        }
        continue;
      }
      auto live = applyPlan(std::nullopt, p.plan, readable);
      if (live) accounts.push_back(std::move(*live));
    }
  }
  const double gen_s = secondsSince(t_gen);
  const size_t unmanaged_count = unmanaged.size();
  std::vector<hr::HrRecord>().swap(people.before);  // the agent does not hold yesterday's HR
  std::vector<LiveAccount>().swap(unmanaged);

  // The agent's prefetch: the directory read into memory.
  malloc_trim(0);
  const long rss_no_snapshot_kb = procStatusKb("VmRSS");
  const long heap_no_snapshot_kb = heapInUseKb();
  const auto t_snap = Clock::now();
  auto dir = snapshotOf(accounts);
  const double snapshot_s = secondsSince(t_snap);
  const long snapshot_kb = procStatusKb("VmRSS") - rss_no_snapshot_kb;
  const long snapshot_heap_kb = heapInUseKb() - heap_no_snapshot_kb;
  const size_t live_count = accounts.size();
  std::vector<LiveAccount>().swap(accounts);
  malloc_trim(0);

  const long rss_before_kb = procStatusKb("VmRSS");
  const long heap_before_kb = heapInUseKb();
  const long maxrss_setup_kb = maxRssKb();
  const bool reset = resetPeakRss();

  std::vector<double> times, cpu_times, copy_times;
  std::vector<long> faults;
  std::vector<PersonPlan> result;
  for (int k = 0; k < args.repeat; ++k) {
    std::vector<PersonPlan>().swap(result);
    auto planner = JobPlanner::create(pol, ctx, *dir, reserved);
    if (!planner.isOk()) return 1;
    // The job's records as the agent holds them once it has the job; planAll takes them.
    const auto t_copy = Clock::now();
    std::vector<hr::HrRecord> job = people.now;
    copy_times.push_back(secondsSince(t_copy));
    const auto t0 = Clock::now();
    const double c0 = cpuSeconds();
    const long f0 = minorFaults();
    result = planner->planAll(std::move(job));
    cpu_times.push_back(cpuSeconds() - c0);
    faults.push_back(minorFaults() - f0);
    times.push_back(secondsSince(t0));
  }
  const long rss_after_kb = procStatusKb("VmRSS");
  const long heap_after_kb = heapInUseKb();
  const long hwm_kb = procStatusKb("VmHWM");
  const long maxrss_end_kb = maxRssKb();

  // What came out.
  size_t with_ops = 0, empty = 0, errors = 0, warnings = 0, deferred = 0;
  std::map<std::string, int> notes;
  std::map<std::string, int> states;
  for (const auto& p : result) {
    if (!p.error.isOk()) {
      if (errors++ < 3) {
        std::fprintf(stderr, "error %s: %s\n", p.record->employee_id.c_str(),
                     p.error.toString().c_str());
      }
      continue;
    }
    if (!p.warning.isOk()) ++warnings;
    for (const auto& n : p.notes) ++notes[n];
    (p.plan.empty() ? empty : with_ops)++;
    if (!p.plan.empty()) ++states[p.plan.state.empty() ? "?" : p.plan.state];
    for (const auto& op : p.plan.operations) deferred += op.deferred;
  }
  std::vector<double> sorted = times;
  std::sort(sorted.begin(), sorted.end());
  const double median = sorted[sorted.size() / 2];

  auto kv = [](const char* k, const std::string& v) { std::printf("%s=%s\n", k, v.c_str()); };
  auto num = [](double v, int digits) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", digits, v);
    return std::string(buf);
  };
  kv("policy", args.realistic ? "realistic" : "default");
  kv("records", std::to_string(people.now.size()));
  kv("records_unchanged", std::to_string(people.unchanged));
  kv("records_movers", std::to_string(people.movers));
  kv("records_leavers", std::to_string(people.leavers));
  kv("records_joiners", std::to_string(people.joiners));
  kv("live_accounts", std::to_string(live_count));
  kv("live_unmanaged", std::to_string(unmanaged_count));
  kv("reserved_names", std::to_string(reserved.size()));
  kv("group_rules", std::to_string(pol.groups.size()));
  kv("placement_rules", std::to_string(pol.placement.rules.size()));
  kv("generation_seconds", num(gen_s, 3));
  kv("initial_plan_seconds", num(initial_plan_s, 3));  // yesterday's joiners, inside generation
  kv("initial_plan_errors", std::to_string(initial_errors));
  kv("snapshot_seconds", num(snapshot_s, 3));
  std::string all;
  for (double t : times) all += (all.empty() ? "" : ",") + num(t, 3);
  kv("plan_seconds_runs", all);
  kv("plan_seconds_first", num(times.front(), 3));  // a fresh process planning once, as the agent
  kv("plan_seconds_median", num(median, 3));
  kv("plan_seconds_min", num(sorted.front(), 3));
  std::string cpu_all;
  for (double t : cpu_times) cpu_all += (cpu_all.empty() ? "" : ",") + num(t, 3);
  kv("plan_cpu_seconds_runs", cpu_all);
  std::string fault_all;
  for (long f : faults) fault_all += (fault_all.empty() ? "" : ",") + std::to_string(f);
  kv("plan_minor_faults_runs", fault_all);  // pages the kernel had to map in during planning
  std::string copy_all;
  for (double t : copy_times) copy_all += (copy_all.empty() ? "" : ",") + num(t, 3);
  kv("records_copy_seconds_runs", copy_all);  // the untimed copy of the job's records per run
  kv("plan_rate_per_second", num(static_cast<double>(people.now.size()) / median, 0));
  kv("people_with_operations", std::to_string(with_ops));
  kv("people_without_operations", std::to_string(empty));
  kv("people_errors", std::to_string(errors));
  kv("people_warnings", std::to_string(warnings));
  for (const auto& [name, count] : countOperations(result)) {
    kv(("ops_" + name).c_str(), std::to_string(count));
  }
  kv("ops_deferred_manager", std::to_string(deferred));
  for (const auto& [name, count] : states)
    kv(("planned_state_" + name).c_str(), std::to_string(count));
  for (const auto& [name, count] : notes) kv(("note_" + name).c_str(), std::to_string(count));
  kv("plan_digest", planDigest(result));
  kv("snapshot_rss_kb", std::to_string(snapshot_kb));  // the InMemoryDirectory of all accounts
  // Heap in use: the snapshot alone, everything the planner is given (snapshot, the job's records,
  // reserved names), and that plus the plans.
  kv("snapshot_heap_kb", std::to_string(snapshot_heap_kb));
  kv("heap_before_plan_kb", std::to_string(heap_before_kb));
  kv("heap_after_plan_kb", std::to_string(heap_after_kb));
  kv("rss_before_plan_kb", std::to_string(rss_before_kb));
  kv("rss_after_plan_kb", std::to_string(rss_after_kb));
  kv("peak_rss_setup_kb", std::to_string(maxrss_setup_kb));  // getrusage ru_maxrss after setup
  kv("peak_rss_planning_kb", reset ? std::to_string(hwm_kb) : "unknown");  // VmHWM, reset before
  kv("ru_maxrss_kb", std::to_string(maxrss_end_kb));                       // getrusage at the end
  // The goal on the median, as every figure in docs/benchmarks.md; and, stricter, on the first
  // run (a fresh process planning once: every page of its plans is new to the process, which on
  // some virtual machines costs 6-15 us a page).
  kv("goal_time_met", median < 1.0 ? "yes" : "no");
  kv("goal_time_met_first_run", times.front() < 1.0 ? "yes" : "no");
  // What the agent holds while planning: the job's records, the snapshot and the plans (VmHWM
  // reset once the generation data was freed; without the reset, the whole process's peak).
  const long planning_peak_kb = reset ? hwm_kb : std::max(maxrss_end_kb, maxrss_setup_kb);
  kv("goal_memory_met", planning_peak_kb < 1024 * 1024 ? "yes" : "no");
  return 0;
}

}  // namespace
}  // namespace tenure::lifecycle

int main(int argc, char** argv) {
  tenure::lifecycle::Args args;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const char* next = i + 1 < argc ? argv[i + 1] : nullptr;
    if (a == "--n" && next) {
      args.n = std::strtoul(next, nullptr, 10);
      ++i;
    } else if (a == "--policy" && next) {
      args.realistic = std::string(next) != "default";
      ++i;
    } else if (a == "--repeat" && next) {
      args.repeat = std::max(1, std::atoi(next));
      ++i;
    } else {
      std::fprintf(stderr, "usage: %s [--n N] [--policy default|realistic] [--repeat K]\n",
                   argv[0]);
      return 2;
    }
  }
  if (args.n < 100) {
    std::fprintf(stderr, "--n must be at least 100\n");
    return 2;
  }
  return tenure::lifecycle::run(args);
}
