// Report rendering without HTTP: escaping, CSV safety and the error-hint table.

#include "controlplane/reports/run_report.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "controlplane/reports/error_hints.h"

namespace tenure::cp {
namespace {

// A small RFC 4180 reader: fields of every record (CRLF or LF line ends).
std::vector<std::vector<std::string>> parseCsv(const std::string& text) {
  std::vector<std::vector<std::string>> rows(1);
  std::string field;
  bool quoted = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      rows.back().push_back(field);
      field.clear();
    } else if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') {
      continue;
    } else if (c == '\n') {
      rows.back().push_back(field);
      field.clear();
      rows.emplace_back();
    } else {
      field += c;
    }
  }
  if (rows.back().empty()) rows.pop_back();
  return rows;
}

TEST(HtmlEscapeTest, EscapesEveryMarkupCharacter) {
  EXPECT_EQ(htmlEscape(R"(<a href="x" onclick='y'>&</a>)"),
            "&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&lt;/a&gt;");
  EXPECT_EQ(htmlEscape("Zoë Ørsted"), "Zoë Ørsted");
}

TEST(CsvFieldTest, NeutralisesEveryFormulaPrefix) {
  for (std::string bad : {"=1+2", "+1", "-1", "@SUM(A1)", "\tx", "\rx"}) {
    std::string f = csvField(bad);
    std::string unquoted = f.front() == '"' ? f.substr(1) : f;
    EXPECT_EQ(unquoted.front(), '\'') << bad;
  }
  EXPECT_EQ(csvField("plain"), "plain");
  EXPECT_EQ(csvField("CN=Lee\\, Ann,OU=Staff"), "\"CN=Lee\\, Ann,OU=Staff\"");
  EXPECT_EQ(csvField("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(csvField("=HYPERLINK(\"http://x\",\"y\")"), "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"");
}

RunReport sampleReport() {
  RunReport rep;
  rep.run.run_id = "r_1";
  rep.run.status = RunStatus::kPartial;
  rep.run.source = "csv";
  rep.run.created_at_ms = 1'700'000'000'000;
  rep.run.rejected.push_back(RejectedRow{3, "=cmd|' /C calc'!A0", "status", "row 3: status: bad"});
  protocol::IdentityOutcome ok;
  ok.employee_id = "E1";
  ok.action = "created";
  ok.dn = "CN=Ann Lee,OU=Staff,DC=x";
  ok.operations.push_back({"create", ok.dn, "", "new hire", {"cn"}});
  ok.operations.push_back({"add_member", ok.dn, "CN=Sales,DC=x", "-rule sales, +1", {}});
  protocol::IdentityOutcome bad;
  bad.employee_id = "E2";
  bad.action = "failed";
  bad.dn = "CN=Bo <i onmouseover=x>,OU=Staff,DC=x";
  bad.error_class = "permission";
  bad.directory_code = 50;
  bad.error_message = "Insufficient access <script>";
  rep.outcomes = {ok, bad};
  rep.counts_by_action = {{"created", 1}, {"failed", 1}};
  return rep;
}

TEST(RunReportCsvTest, OneRowPerOperationAndNoCellCanStartAFormula) {
  auto rows = parseCsv(runReportCsv(sampleReport()));
  ASSERT_EQ(rows.size(), 1u + 2u + 1u + 1u) << "header, two operations, one failed person, one rejected row";
  const auto& header = rows[0];
  for (const auto& r : rows) {
    ASSERT_EQ(r.size(), header.size());
    for (const auto& cell : r) {
      ASSERT_FALSE(!cell.empty() && std::string("=+-@\t\r").find(cell[0]) != std::string::npos)
          << "cell '" << cell << "'";
    }
  }
  EXPECT_EQ(rows[2][10], "'-rule sales, +1") << "reason kept, neutralised, comma intact";
  EXPECT_EQ(rows[4][2], "'=cmd|' /C calc'!A0");
  EXPECT_EQ(rows[3][5], "CN=Bo <i onmouseover=x>,OU=Staff,DC=x");
}

TEST(RunReportHtmlTest, IsSelfContainedAndEscapesEveryValue) {
  std::string html = runReportHtml(sampleReport());
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("<i "), std::string::npos);
  EXPECT_NE(html.find("Insufficient access &lt;script&gt;"), std::string::npos);
  EXPECT_EQ(html.find("http"), std::string::npos) << "no external resource";
  EXPECT_EQ(html.find(" src="), std::string::npos);
  EXPECT_NE(html.find("@media print"), std::string::npos);
  EXPECT_NE(html.find("new hire"), std::string::npos);
}

TEST(ErrorHintTest, InsufficientAccessNamesTheServiceAccountAndTheOu) {
  std::string h = errorHint({"permission", 50, "00002098: SecErr", "CN=Ann,OU=Sales,DC=x", {}});
  EXPECT_NE(h.find("grant"), std::string::npos) << h;
  EXPECT_NE(h.find("service account"), std::string::npos) << h;
  EXPECT_NE(h.find("OU=Sales,DC=x"), std::string::npos) << h;
}

TEST(ErrorHintTest, EachKnownFailureGetsItsOwnHint) {
  std::string constraint = errorHint({"data", 19, "constraint violation", "", {}});
  std::string missing_ou = errorHint({"config", 32, "the OU OU=New,DC=x does not exist",
                                      "CN=Ann,OU=New,DC=x", {}});
  std::string manager = errorHint({"", 0, "", "", {"manager_unresolved"}});
  std::string exists = errorHint({"conflict", 68, "already exists", "", {}});
  EXPECT_NE(constraint.find("constraint"), std::string::npos);
  EXPECT_NE(missing_ou.find("OU=New,DC=x"), std::string::npos);
  EXPECT_NE(manager.find("manager"), std::string::npos);
  EXPECT_NE(exists.find("employeeID"), std::string::npos);
  EXPECT_NE(constraint, missing_ou);
  EXPECT_FALSE(errorHint({"internal", 0, "", "", {}}).empty());
}

TEST(RunReportJsonTest, ErrorsCarryTheirHint) {
  auto o = runReportJson(sampleReport());
  auto& errors = o.at("errors").as_array();
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].at("employee_id").as_string(), "E2");
  EXPECT_NE(std::string(errors[0].at("hint").as_string()).find("OU=Staff,DC=x"), std::string::npos);
  EXPECT_EQ(o.at("people").at(0).at("operations").at(1).at("reason").as_string(),
            "-rule sales, +1");
}

}  // namespace
}  // namespace tenure::cp
