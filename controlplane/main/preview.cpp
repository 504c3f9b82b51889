#include "controlplane/main/preview.h"

#include <boost/json.hpp>

#include <fstream>
#include <ostream>
#include <sstream>
#include <thread>

#include "common/base/status.h"
#include "common/protocol/messages.h"

namespace tenure::cp {

namespace bj = boost::json;

namespace {

struct HttpAnswer {
  long status = 0;
  std::string body;
};

Result<HttpAnswer> send(net::HttpClient& http, const PreviewOptions& o, const std::string& method,
                        const std::string& path, const std::string& content_type = "",
                        const std::string& body = "") {
  net::HttpRequest req;
  req.method = method;
  req.url = o.url + path;
  req.headers.emplace_back("Authorization", "Bearer " + o.token);
  if (!content_type.empty()) req.headers.emplace_back("Content-Type", content_type);
  if (method != "GET") req.body = body;
  req.timeout = std::chrono::seconds(120);
  req.connect_timeout = std::chrono::seconds(10);
  ASSIGN_OR_RETURN(net::HttpResponse r, http.send(req));
  return HttpAnswer{r.status, std::move(r.body)};
}

std::string str(const bj::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end() || !it->value().is_string()) return "";
  return std::string(it->value().get_string());
}

void printRejected(const bj::object& o, std::ostream& out) {
  auto it = o.find("rejected");
  if (it == o.end() || !it->value().is_array() || it->value().get_array().empty()) return;
  out << "\nRejected rows (not applied):\n";
  for (const auto& r : it->value().get_array()) {
    if (!r.is_object()) continue;
    out << "  " << str(r.get_object(), "reason") << "\n";
  }
}

void printPeople(const bj::array& people, std::ostream& out) {
  for (const auto& pv : people) {
    if (!pv.is_object()) continue;
    const auto& p = pv.get_object();
    std::string line = "  " + str(p, "employee_id");
    if (!str(p, "sam_account_name").empty()) line += " (" + str(p, "sam_account_name") + ")";
    line += ": " + str(p, "action");
    if (!str(p, "state").empty()) line += " [" + str(p, "state") + "]";
    out << line << "\n";
    if (auto e = p.find("error"); e != p.end() && e->value().is_object()) {
      out << "      error: " << str(e->value().get_object(), "class") << ": "
          << str(e->value().get_object(), "message") << "\n";
    }
    auto ops = p.find("operations");
    if (ops == p.end() || !ops->value().is_array()) continue;
    for (const auto& ov : ops->value().get_array()) {
      if (!ov.is_object()) continue;
      const auto& op = ov.get_object();
      std::string text = "      - " + str(op, "kind");
      if (!str(op, "target").empty()) text += " -> " + str(op, "target");
      if (auto c = op.find("changes"); c != op.end() && c->value().is_array() &&
                                       !c->value().get_array().empty()) {
        text += " (";
        bool first = true;
        for (const auto& a : c->value().get_array()) {
          if (!a.is_string()) continue;
          text += (first ? "" : ", ") + std::string(a.get_string());
          first = false;
        }
        text += ")";
      }
      if (!str(op, "reason").empty()) text += ": " + str(op, "reason");
      out << text << "\n";
    }
  }
}

}  // namespace

int runPreview(net::HttpClient& http, const PreviewOptions& o, std::ostream& out,
               std::ostream& err) {
  std::ifstream in(o.file, std::ios::binary);
  if (!in) {
    err << "tenure-cp: cannot read " << o.file << "\n";
    return 2;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  const bool json = o.file.size() >= 5 && o.file.substr(o.file.size() - 5) == ".json";
  auto up = send(http, o, "POST", "/api/v1/hr/records?dry_run=true",
                 json ? "application/json" : "text/csv", ss.str());
  if (!up.isOk()) {
    err << "tenure-cp: " << up.status().message() << "\n";
    return 2;
  }
  auto upv = protocol::parseJsonText(up->body);
  if (!upv.isOk() || !upv->is_object()) {
    err << "tenure-cp: upload answered " << up->status << ": " << up->body << "\n";
    return 2;
  }
  const bj::object& upo = upv->get_object();
  if (up->status == 422) {
    out << "Every row was rejected; nothing to preview.\n";
    printRejected(upo, out);
    return 1;
  }
  if (up->status != 202) {
    err << "tenure-cp: upload answered " << up->status << ": " << str(upo, "message") << "\n";
    return 2;
  }
  const std::string run_id = str(upo, "run_id");
  const auto deadline = std::chrono::steady_clock::now() + o.timeout;
  bj::object run;
  std::string status;
  for (;;) {
    auto r = send(http, o, "GET", "/api/v1/runs/" + run_id);
    if (r.isOk() && r->status == 200) {
      auto v = protocol::parseJsonText(r->body);
      if (v.isOk() && v->is_object()) {
        run = v->get_object();
        status = str(run, "status");
        if (status != "queued" && status != "running") break;
      }
    } else if (r.isOk() && r->status != 503) {
      err << "tenure-cp: run " << run_id << " answered " << r->status << "\n";
      return 2;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      err << "tenure-cp: run " << run_id << " did not finish within " << o.timeout.count()
          << " s (status " << (status.empty() ? "unknown" : status)
          << "); is an agent connected?\n";
      return 1;
    }
    std::this_thread::sleep_for(o.poll_interval);
  }

  out << "Preview " << run_id << ": " << status << " (policy version "
      << (run.contains("policy_version") && run.at("policy_version").is_int64()
              ? std::to_string(run.at("policy_version").get_int64())
              : "?")
      << "; nothing was changed)\n";
  if (auto e = run.find("error"); e != run.end() && e->value().is_object()) {
    out << "error: " << str(e->value().get_object(), "class") << ": "
        << str(e->value().get_object(), "message") << "\n";
  }
  if (auto rep = run.find("report"); rep != run.end() && rep->value().is_object()) {
    const auto& report = rep->value().get_object();
    if (auto c = report.find("counts"); c != report.end() && c->value().is_object()) {
      out << "Counts:";
      for (const auto& [k, n] : c->value().get_object()) out << " " << k << "=" << bj::serialize(n);
      out << "\n";
    }
    if (auto ids = report.find("identities"); ids != report.end() && ids->value().is_array()) {
      out << "People:\n";
      printPeople(ids->value().get_array(), out);
    }
  }
  printRejected(run, out);
  return status == "succeeded" ? 0 : 1;
}

}  // namespace tenure::cp
