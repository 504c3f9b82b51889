// The digest's rendering and settings validation, without I/O: subject and totals, ordering,
// escaping (HTML, and headers: no injection through a tenant name), the MIME structure.

#include "controlplane/digest/digest_mail.h"

#include <openssl/evp.h>

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <sstream>

namespace tenure::cp {
namespace {

namespace bj = boost::json;

constexpr int64_t kStart = 1'764'658'800'000;  // 2025-12-02T07:00:00Z
constexpr int64_t kEnd = kStart + 86'400'000;

DigestRun run(const std::string& id, RunStatus status, std::map<std::string, int> counts,
              int failed_people = 0, bool dry_run = false) {
  DigestRun r;
  r.run.run_id = id;
  r.run.kind = "apply";
  r.run.source = "csv";
  r.run.status = status;
  r.run.dry_run = dry_run;
  r.run.created_at_ms = kStart + 3'600'000;
  r.counts = std::move(counts);
  r.failed_people = failed_people;
  return r;
}

DigestContent sample() {
  DigestContent c;
  c.tenant_id = "t_0011";
  c.tenant_name = "Acme";
  c.period_start_ms = kStart;
  c.period_end_ms = kEnd;
  c.runs.push_back(run("r_ok", RunStatus::kSucceeded, {{"created", 3}, {"updated", 2}}));
  c.runs.push_back(run("r_failed", RunStatus::kPartial, {{"created", 1}, {"failed", 2}}, 2));
  DigestRun held = run("r_held", RunStatus::kHeld, {{"disabled", 40}});
  held.run.hold_reason = "disable 40 > 10";
  c.runs.push_back(held);
  c.runs.push_back(run("r_dry", RunStatus::kSucceeded, {{"deleted", 9}}, 0, /*dry_run=*/true));
  return c;
}

std::string decodeBase64Lines(const std::string& text) {
  std::string joined;
  for (char ch : text) {
    if (ch != '\r' && ch != '\n') joined += ch;
  }
  std::string out(joined.size(), '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(joined.data()),
                          static_cast<int>(joined.size()));
  EXPECT_GE(n, 0);
  out.resize(static_cast<size_t>(std::max(n, 0)));
  while (joined.size() >= 1 && joined.back() == '=') {  // EVP_DecodeBlock keeps padding bytes
    joined.pop_back();
    out.pop_back();
  }
  return out;
}

std::vector<std::string> headerLines(const std::string& message) {
  std::vector<std::string> out;
  const std::string head = message.substr(0, message.find("\r\n\r\n"));
  std::istringstream in(head);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    out.push_back(line);
  }
  return out;
}

TEST(DigestMailTest, SubjectCountsRunsFailedAndHeldInThePeriodOfTheTenantsZone) {
  DigestContent c = sample();
  c.zone = TimeZone::load("Europe/Berlin").value();
  EXPECT_EQ(digestSubject(c),
            "Tenure digest for Acme: 4 runs, 1 failed, 1 held "
            "(2025-12-02 08:00 +01:00 to 2025-12-03 08:00 +01:00)");
  c.runs.resize(1);
  EXPECT_NE(digestSubject(c).find(": 1 run, 0 failed, 0 held"), std::string::npos);
}

TEST(DigestMailTest, TotalsCountOnlyWhatRunsApplied) {
  const DigestTotals t = digestTotals(sample());
  EXPECT_EQ(t.runs, 4);
  EXPECT_EQ(t.failed, 1);
  EXPECT_EQ(t.held, 1);
  EXPECT_EQ(t.created, 4);
  EXPECT_EQ(t.updated, 2);
  EXPECT_EQ(t.disabled, 0) << "a held run's plan applied nothing";
  EXPECT_EQ(t.deleted, 0) << "a dry run applied nothing";
  EXPECT_EQ(t.errors, 2);
}

TEST(DigestMailTest, FailedAndHeldRunsComeFirst) {
  const DigestContent c = sample();
  std::vector<std::string> ids;
  for (const DigestRun* r : digestRunOrder(c)) ids.push_back(r->run.run_id);
  EXPECT_EQ(ids, (std::vector<std::string>{"r_failed", "r_held", "r_ok", "r_dry"}));
  const std::string text = digestText(c);
  EXPECT_LT(text.find("r_failed"), text.find("r_ok"));
  const std::string html = digestHtml(c);
  EXPECT_LT(html.find("r_failed"), html.find("r_held"));
  EXPECT_LT(html.find("r_held"), html.find("r_ok"));
}

TEST(DigestMailTest, HtmlEscapesEverythingTenantsAndHrSent) {
  DigestContent c = sample();
  c.tenant_name = "<script>alert(1)</script>";
  c.runs[1].run.error_class = "data";
  c.runs[1].run.error_message = "bad <img src=x onerror=alert(2)> & \"quoted\"";
  c.runs[2].run.hold_reason = "<i>over threshold</i>";
  c.top_errors.push_back(
      DigestError{"permission", 50, "Grant <rights>", "<denied>", "<E1>", "r_failed", 3});
  c.open_tickets.push_back(
      DigestTicket{"tk_1", "bad_hr_data", "open", "row <2> of 'x'", 2, kStart});
  const std::string html = digestHtml(c);
  for (const char* raw :
       {"<script>", "<img", "<i>over", "<rights>", "<denied>", "<E1>", "<2>", "'x'"}) {
    EXPECT_EQ(html.find(raw), std::string::npos) << raw;
  }
  EXPECT_NE(html.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
  EXPECT_NE(html.find("bad &lt;img src=x onerror=alert(2)&gt; &amp; &quot;quoted&quot;"),
            std::string::npos);
  EXPECT_NE(html.find("Grant &lt;rights&gt;"), std::string::npos);
  EXPECT_NE(html.find("row &lt;2&gt; of &#39;x&#39;"), std::string::npos);
  // Self-contained: nothing is loaded from anywhere.
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("src="), html.find("src=x")) << "only the escaped text has src=";
  EXPECT_EQ(html.find("<link"), std::string::npos);
  EXPECT_EQ(html.find("url("), std::string::npos);
}

TEST(DigestMailTest, RunRowsLinkToTheirReportOnlyWhenThePublicUrlIsKnown) {
  DigestContent c = sample();
  EXPECT_EQ(digestHtml(c).find("<a href"), std::string::npos);
  EXPECT_EQ(digestText(c).find("report: "), std::string::npos);
  c.public_url = "https://cp.msp.test";
  EXPECT_NE(digestHtml(c).find("<a href=\"https://cp.msp.test/api/v1/runs/r_failed/report.html\">"),
            std::string::npos);
  EXPECT_NE(digestText(c).find("report: https://cp.msp.test/api/v1/runs/r_ok/report.html"),
            std::string::npos);
}

TEST(DigestMailTest, ATenantNameCannotInjectMailHeaders) {
  DigestContent c = sample();
  c.tenant_name = "Acme\r\nBcc: thief@evil.test\r\n\r\nbody";
  DigestEnvelope env{
      "tenure@msp.test", {"it@acme.test", "hr@acme.test"}, "digest.1@tenure", 1'764'745'200};
  const std::string m = digestEmail(c, env);
  const auto lines = headerLines(m);
  for (const auto& l : lines) {
    EXPECT_NE(l.rfind("Bcc:", 0), 0u) << l;
    EXPECT_LE(l.size(), 78u) << l;
    EXPECT_EQ(l.find("thief"), std::string::npos) << "the name is encoded, never raw: " << l;
  }
  // The Subject decodes to the name with its line breaks flattened.
  std::string subject;
  bool in_subject = false;
  for (const auto& l : lines) {
    if (l.rfind("Subject: ", 0) == 0) {
      in_subject = true;
      subject += l.substr(9);
    } else if (in_subject && !l.empty() && l[0] == ' ') {
      subject += l.substr(1);
    } else {
      in_subject = false;
    }
  }
  std::string decoded;
  for (size_t at = 0; (at = subject.find("=?UTF-8?B?", at)) != std::string::npos;) {
    const size_t end = subject.find("?=", at + 10);
    ASSERT_NE(end, std::string::npos);
    decoded += decodeBase64Lines(subject.substr(at + 10, end - at - 10));
    at = end + 2;
  }
  EXPECT_EQ(decoded.rfind("Tenure digest for Acme  Bcc: thief@evil.test    body: 4 runs", 0), 0u)
      << decoded;
}

TEST(DigestMailTest, EncodedWordsStayShortAndNeverSplitACharacter) {
  const std::string name = "Zoë Ærø Łódź Straße " + std::string(40, 'x') + " 東京都 ✓✓✓✓✓✓✓✓";
  const std::string h = encodeHeaderText(name);
  std::istringstream in(h);
  std::string decoded;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty() && line[0] == ' ') line.erase(0, 1);
    EXPECT_LE(line.size(), 75u) << line;
    ASSERT_EQ(line.rfind("=?UTF-8?B?", 0), 0u) << line;
    const std::string word = decodeBase64Lines(line.substr(10, line.size() - 12));
    // Each word is valid UTF-8 on its own: it neither starts with a continuation byte nor ends
    // inside a sequence.
    ASSERT_FALSE(word.empty());
    EXPECT_NE(static_cast<unsigned char>(word[0]) & 0xC0, 0x80) << line;
    decoded += word;
  }
  EXPECT_EQ(decoded, name);
  EXPECT_EQ(encodeHeaderText("Plain ASCII"), "Plain ASCII");
}

TEST(DigestMailTest, MessageIsMultipartAlternativeWithTextAndHtml) {
  DigestContent c = sample();
  DigestEnvelope env{"tenure@msp.test", {"it@acme.test"}, "digest.7.t_0011@tenure", 1'764'745'200};
  const std::string m = digestEmail(c, env);
  EXPECT_NE(m.find("From: tenure@msp.test\r\n"), std::string::npos);
  EXPECT_NE(m.find("To: it@acme.test\r\n"), std::string::npos);
  EXPECT_NE(m.find("Message-ID: <digest.7.t_0011@tenure>\r\n"), std::string::npos);
  EXPECT_NE(m.find("MIME-Version: 1.0\r\n"), std::string::npos);
  const size_t ct = m.find("Content-Type: multipart/alternative; boundary=\"");
  ASSERT_NE(ct, std::string::npos);
  const size_t b0 = ct + std::string("Content-Type: multipart/alternative; boundary=\"").size();
  const std::string boundary = m.substr(b0, m.find('"', b0) - b0);
  const size_t text_at = m.find("--" + boundary + "\r\nContent-Type: text/plain; charset=utf-8");
  const size_t html_at = m.find("--" + boundary + "\r\nContent-Type: text/html; charset=utf-8");
  const size_t end_at = m.find("--" + boundary + "--\r\n");
  ASSERT_NE(text_at, std::string::npos);
  ASSERT_NE(html_at, std::string::npos);
  ASSERT_NE(end_at, std::string::npos);
  EXPECT_LT(text_at, html_at) << "the preferred alternative (HTML) comes last";
  EXPECT_LT(html_at, end_at);
  auto body = [&](size_t from, size_t to) {
    const size_t start = m.find("\r\n\r\n", from) + 4;
    return decodeBase64Lines(m.substr(start, to - start));
  };
  EXPECT_EQ(body(text_at, html_at), digestText(c));
  EXPECT_EQ(body(html_at, end_at), digestHtml(c));
  std::istringstream in(m);
  for (std::string line; std::getline(in, line);) EXPECT_LE(line.size(), 998u);
}

TEST(DigestMailTest, TopErrorsAreGroupedByHintMostFrequentFirst) {
  RunReport a;
  a.run.run_id = "r_a";
  protocol::IdentityOutcome denied;
  denied.employee_id = "E1";
  denied.action = "failed";
  denied.error_class = "permission";
  denied.directory_code = 50;
  denied.error_message = "00002098: SecErr: insufficient access";
  denied.dn = "CN=E1,OU=Staff,DC=acme,DC=test";
  protocol::IdentityOutcome denied2 = denied;
  denied2.employee_id = "E2";
  denied2.dn = "CN=E2,OU=Staff,DC=acme,DC=test";
  a.outcomes = {denied, denied2};
  RunReport b;
  b.run.run_id = "r_b";
  b.run.error_class = "transient";
  b.run.error_message = "cannot reach the domain controller";
  protocol::IdentityOutcome denied3 = denied;
  denied3.employee_id = "E3";
  b.outcomes = {denied3};
  auto top = topDigestErrors({b, a}, 10);
  ASSERT_EQ(top.size(), 2u);
  EXPECT_EQ(top[0].error_class, "permission");
  EXPECT_EQ(top[0].count, 3);
  EXPECT_EQ(top[0].example_employee, "E3");
  EXPECT_FALSE(top[0].hint.empty());
  EXPECT_EQ(top[1].error_class, "transient");
  EXPECT_EQ(top[1].count, 1);
  EXPECT_EQ(top[1].example_run, "r_b");
  EXPECT_EQ(topDigestErrors({b, a}, 1).size(), 1u);
}

std::vector<std::string> errorPaths(const std::string& body, DigestSettings& s) {
  std::vector<std::string> out;
  for (const auto& e : applyDigestSettings(bj::parse(body), s))
    out.push_back(e.path + ": " + e.reason);
  return out;
}

TEST(DigestMailTest, SettingsAreValidatedFieldByField) {
  DigestSettings s;
  EXPECT_TRUE(errorPaths(R"({"enabled":true,"to":["it@acme.test"]})", s).empty());
  EXPECT_TRUE(s.enabled);
  EXPECT_EQ(s.schedule, "0 7 * * *");
  EXPECT_FALSE(s.send_when_empty);

  DigestSettings t;
  auto errors = errorPaths(
      R"({"to":["ok@acme.test","Eve <eve@x.test>","a@b.test\r\nBcc: x@y","ok@acme.test",7],
          "schedule":"0 25 * * *","send_when_empty":"yes","colour":"red"})",
      t);
  const std::string all = [&] {
    std::string j;
    for (const auto& e : errors) j += e + "\n";
    return j;
  }();
  EXPECT_NE(all.find("to[1]: not an e-mail address"), std::string::npos) << all;
  EXPECT_NE(all.find("to[2]: not an e-mail address"), std::string::npos) << all;
  EXPECT_NE(all.find("to[3]: listed twice"), std::string::npos) << all;
  EXPECT_NE(all.find("to[4]: not an e-mail address"), std::string::npos) << all;
  EXPECT_NE(all.find("schedule: position 3:"), std::string::npos) << all;
  EXPECT_NE(all.find("send_when_empty: must be true or false"), std::string::npos) << all;
  EXPECT_NE(all.find("colour: unknown field"), std::string::npos) << all;

  DigestSettings u;
  auto need_to = errorPaths(R"({"enabled":true})", u);
  ASSERT_EQ(need_to.size(), 1u);
  EXPECT_EQ(need_to[0].rfind("to: at least one address", 0), 0u) << need_to[0];
  EXPECT_EQ(errorPaths("[]", u).at(0), ": the body must be a JSON object");

  for (const char* bad : {"", "x", "@acme.test", "it@", "it@acme..test", "a b@acme.test",
                          "it@acme.test.", "it@@acme.test"}) {
    EXPECT_FALSE(isMailAddress(bad)) << bad;
  }
  for (const char* good : {"it@acme.test", "first.last+digest@sub.acme.test", "x@localhost"}) {
    EXPECT_TRUE(isMailAddress(good)) << good;
  }
}

TEST(DigestMailTest, LocalTimesFollowTheZonesOffsetAcrossDaylightSaving) {
  const TimeZone berlin = TimeZone::load("Europe/Berlin").value();
  EXPECT_EQ(formatLocalTime(kStart, berlin), "2025-12-02 08:00 +01:00");
  EXPECT_EQ(formatLocalTime(1'751'439'600'000, berlin), "2025-07-02 09:00 +02:00");
  EXPECT_EQ(formatLocalTime(kStart, TimeZone::utc()), "2025-12-02 07:00 +00:00");
  const TimeZone ny = TimeZone::load("America/New_York").value();
  EXPECT_EQ(formatLocalTime(kStart, ny), "2025-12-02 02:00 -05:00");
}

TEST(DigestMailTest, EmptyMeansNoRunAndNoOpenTicket) {
  DigestContent c;
  EXPECT_TRUE(digestIsEmpty(c));
  c.open_tickets.push_back(DigestTicket{"tk_1", "agent_silent", "open", "silent", 1, 0});
  EXPECT_FALSE(digestIsEmpty(c));
  DigestContent d;
  d.runs_not_listed = 1;
  EXPECT_FALSE(digestIsEmpty(d));
}

}  // namespace
}  // namespace tenure::cp
