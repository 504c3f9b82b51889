#include "controlplane/audit/identity_events.h"

#include <boost/json.hpp>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <map>
#include <set>

#include "common/base/json_fields.h"

namespace tenure::cp {

namespace bj = boost::json;

namespace {

std::string valueText(const bj::value& v) {
  return v.is_string() ? std::string(v.get_string()) : bj::serialize(v);
}

// Field-by-field differences (custom attributes as "custom.NAME"); an absent field reads as "".
bj::object diffRecords(const bj::object& before, const bj::object& after) {
  bj::object changes;
  auto flatten = [](const bj::object& o) {
    std::map<std::string, std::string> out;
    for (const auto& [k, v] : o) {
      if (k == "custom" && v.is_object()) {
        for (const auto& [ck, cv] : v.get_object()) {
          out["custom." + std::string(ck)] = valueText(cv);
        }
      } else {
        out[std::string(k)] = valueText(v);
      }
    }
    return out;
  };
  auto a = flatten(before);
  auto b = flatten(after);
  std::set<std::string> keys;
  for (const auto& [k, v] : a) keys.insert(k);
  for (const auto& [k, v] : b) keys.insert(k);
  for (const auto& k : keys) {
    const std::string old_v = a.count(k) ? a[k] : "";
    const std::string new_v = b.count(k) ? b[k] : "";
    if (old_v != new_v) changes[k] = bj::object{{"old", old_v}, {"new", new_v}};
  }
  return changes;
}

bj::object directoryStateJson(const DirectoryState& d) { return toJson(d); }

Result<DirectoryState> directoryStateFromText(const std::string& text) {
  ASSIGN_OR_RETURN(bj::value v, protocol::parseJsonText(text));
  ASSIGN_OR_RETURN(const bj::object* o, json::asObject(v, "directory snapshot"));
  DirectoryState d;
  ASSIGN_OR_RETURN(d.exists, json::optionalBool(*o, "exists", true));
  ASSIGN_OR_RETURN(d.dn, json::optionalString(*o, "dn"));
  ASSIGN_OR_RETURN(d.sam_account_name, json::optionalString(*o, "sam_account_name"));
  ASSIGN_OR_RETURN(d.upn, json::optionalString(*o, "upn"));
  ASSIGN_OR_RETURN(d.mail, json::optionalString(*o, "mail"));
  ASSIGN_OR_RETURN(d.state, json::optionalString(*o, "lifecycle_state"));
  ASSIGN_OR_RETURN(d.run_id, json::optionalString(*o, "run_id"));
  ASSIGN_OR_RETURN(d.reported_at_ms, json::optionalInt(*o, "reported_at_ms", 0));
  if (auto it = o->find("enabled"); it != o->end() && it->value().is_bool()) {
    d.enabled = it->value().get_bool();
  }
  if (auto it = o->find("groups"); it != o->end() && it->value().is_array()) {
    ASSIGN_OR_RETURN(auto groups, json::optionalStringArray(*o, "groups"));
    d.groups = std::move(groups);
  }
  return d;
}

bool stateEnables(std::string_view state) { return state == "active" || state == "rehire"; }

// The directory state after `o`, starting from what was known before.
DirectoryState applyOutcome(std::optional<DirectoryState> prev, const protocol::IdentityOutcome& o,
                            int64_t at_ms, const std::string& run_id) {
  DirectoryState d = prev.value_or(DirectoryState{});
  d.exists = true;
  if (!o.dn.empty()) d.dn = o.dn;
  if (!o.sam_account_name.empty()) d.sam_account_name = o.sam_account_name;
  if (!o.upn.empty()) d.upn = o.upn;
  if (!o.mail.empty()) d.mail = o.mail;
  if (!o.state.empty()) d.state = o.state;
  bool enable_known = false;
  for (const auto& op : o.operations) {
    if (op.kind == "enable") {
      d.enabled = true;
      enable_known = true;
    } else if (op.kind == "disable") {
      d.enabled = false;
      enable_known = true;
    } else if (op.kind == "create") {
      d.enabled = stateEnables(o.state);
      enable_known = true;
    } else if (op.kind == "move" || op.kind == "rename") {
      if (!op.target.empty() && o.dn.empty()) d.dn = op.target;
    } else if (op.kind == "add_member" && !op.target.empty()) {
      if (!d.groups) d.groups.emplace();
      if (std::find(d.groups->begin(), d.groups->end(), op.target) == d.groups->end()) {
        d.groups->push_back(op.target);
      }
    } else if (op.kind == "remove_member" && !op.target.empty()) {
      if (!d.groups) d.groups.emplace();
      d.groups->erase(std::remove(d.groups->begin(), d.groups->end(), op.target),
                      d.groups->end());
    } else if (op.kind == "delete") {
      d.exists = false;
    }
  }
  if (o.action == "deleted") d.exists = false;
  if (o.action == "disabled") d.enabled = false;
  if (o.action == "enabled") d.enabled = true;
  // An unchanged account matches its desired state, so its state tells whether it is enabled.
  if (!enable_known && !d.enabled && !o.state.empty() && o.action == "unchanged") {
    d.enabled = stateEnables(o.state);
  }
  d.reported_at_ms = at_ms;
  d.run_id = run_id;
  return d;
}

bool sameAccount(const DirectoryState& a, const DirectoryState& b) {
  return a.exists == b.exists && a.dn == b.dn && a.sam_account_name == b.sam_account_name &&
         a.upn == b.upn && a.mail == b.mail && a.enabled == b.enabled && a.groups == b.groups;
}

std::string joinReasons(const std::vector<protocol::PlannedOperation>& ops) {
  std::string out;
  for (const auto& op : ops) {
    if (!out.empty()) out += "; ";
    out += op.kind;
    if (!op.reason.empty()) out += ": " + op.reason;
  }
  return out;
}

}  // namespace

bj::object toJson(const IdentityEvent& e) {
  bj::object o{{"id", e.id},
               {"employee_id", e.employee_id},
               {"at", formatIso8601Utc(e.at_ms / 1000)},
               {"at_ms", e.at_ms},
               {"kind", e.kind},
               {"source", e.source},
               {"actor", e.actor},
               {"run_id", e.run_id},
               {"summary", e.summary},
               {"detail", e.detail}};
  if (!e.agent_id.empty()) o["agent_id"] = e.agent_id;
  return o;
}

bj::object toJson(const DirectoryState& d) {
  bj::object o{{"exists", d.exists},
               {"dn", d.dn},
               {"sam_account_name", d.sam_account_name},
               {"upn", d.upn},
               {"mail", d.mail},
               {"enabled", d.enabled ? bj::value(*d.enabled) : bj::value(nullptr)},
               {"lifecycle_state", d.state},
               {"groups", d.groups ? bj::value(json::toJsonArray(*d.groups)) : bj::value(nullptr)},
               {"reported_at", d.reported_at_ms ? bj::value(formatIso8601Utc(d.reported_at_ms / 1000))
                                                : bj::value(nullptr)},
               {"reported_at_ms", d.reported_at_ms},
               {"run_id", d.run_id}};
  return o;
}

Status recordHrEvents(TenantStore& store, const std::string& run_id, const std::string& source,
                      const std::string& actor, int64_t at_ms, bool dry_run,
                      const std::vector<hr::HrRecord>& records) {
  return store.events().record([&](IdentityEventStore::Recording& events) -> Status {
    for (const auto& rec : records) {
      bj::value now_v = hr::toJson(rec);
      const bj::object& now = now_v.get_object();
      ASSIGN_OR_RETURN(auto prev_text, events.lastSnapshot(rec.employee_id, "hr", INT64_MAX));
      bj::object before;
      if (prev_text) {
        ASSIGN_OR_RETURN(bj::value pv, protocol::parseJsonText(*prev_text));
        if (pv.is_object()) before = std::move(pv.get_object());
      }
      bj::object changes = diffRecords(before, now);
      if (prev_text && changes.empty()) continue;  // HR sent the same record again
      IdentityEvent e;
      e.employee_id = rec.employee_id;
      e.at_ms = at_ms;
      e.kind = "hr";
      e.source = source;
      e.actor = actor;
      e.run_id = run_id;
      if (!prev_text) {
        e.summary = "first received from HR (" + source + ")";
      } else {
        std::string fields;
        for (const auto& [k, v] : changes) {
          if (!fields.empty()) fields += ", ";
          fields += std::string(k) + " " + valueText(v.at("old")) + " -> " + valueText(v.at("new"));
        }
        e.summary = "HR changed " + fields + " (" + source + ")";
      }
      e.detail = bj::object{{"changes", std::move(changes)}, {"dry_run", dry_run}};
      RETURN_IF_ERROR(events.append(e, bj::serialize(now)));
    }
    return Status::ok();
  });
}

Status recordDirectoryEvents(TenantStore& store, const std::string& run_id,
                             const std::string& agent_id, int64_t at_ms,
                             const protocol::JobResult& result) {
  ASSIGN_OR_RETURN(auto run, store.run(run_id));
  if (!run) return notFoundError("unknown run " + run_id);
  if (run->dry_run) return Status::ok();  // a preview changes nothing
  return store.events().record([&](IdentityEventStore::Recording& events) -> Status {
    RETURN_IF_ERROR(events.removeAgentEvents(run_id));
    for (const auto& o : result.outcomes) {
      if (o.employee_id.empty()) continue;
      ASSIGN_OR_RETURN(auto prev_text,
                       events.lastSnapshot(o.employee_id, "directory", INT64_MAX, run_id));
      std::optional<DirectoryState> prev;
      if (prev_text) {
        ASSIGN_OR_RETURN(prev, directoryStateFromText(*prev_text));
      }
      IdentityEvent e;
      e.employee_id = o.employee_id;
      e.at_ms = at_ms;
      e.source = "agent";
      e.actor = "agent " + agent_id;
      e.run_id = run_id;
      e.agent_id = agent_id;
      bj::array ops;
      for (const auto& op : o.operations) ops.push_back(protocol::toJson(op));

      const std::string prev_state = prev ? prev->state : "";
      if (!o.state.empty() && o.state != prev_state) {
        IdentityEvent l = e;
        l.kind = "lifecycle";
        l.summary = "lifecycle state " + (prev_state.empty() ? std::string("(none)") : prev_state) +
                    " -> " + o.state;
        l.detail = bj::object{{"old", prev_state}, {"new", o.state}};
        RETURN_IF_ERROR(events.append(l, ""));
      }
      e.kind = "directory";
      if (o.failed()) {
        // Nothing is assumed applied; the known state stays as it was.
        e.summary = o.action + " failed: " + o.error_class + ": " + o.error_message;
        e.detail = bj::object{{"action", o.action},
                              {"operations", std::move(ops)},
                              {"error", bj::object{{"class", o.error_class},
                                                   {"message", o.error_message},
                                                   {"directory_code", o.directory_code}}}};
        // Without an earlier report the account is not known to exist (e.g. a failed create).
        DirectoryState same = prev.value_or(DirectoryState{.exists = false});
        if (!o.state.empty()) same.state = o.state;
        if (!prev) {
          same.reported_at_ms = at_ms;
          same.run_id = run_id;
        }
        RETURN_IF_ERROR(events.append(e, bj::serialize(toJson(same))));
        continue;
      }
      DirectoryState next = applyOutcome(prev, o, at_ms, run_id);
      if (o.operations.empty() && prev && sameAccount(*prev, next) && o.state == prev->state) {
        continue;  // nothing changed and nothing new was learned
      }
      e.summary = o.operations.empty() ? "account reported " + o.action
                                       : o.action + ": " + joinReasons(o.operations);
      e.detail = bj::object{{"action", o.action},
                            {"changes", json::toJsonArray(o.changes)},
                            {"operations", std::move(ops)}};
      RETURN_IF_ERROR(events.append(e, bj::serialize(directoryStateJson(next))));
    }
    return Status::ok();
  });
}

Result<std::optional<IdentityAt>> identityAt(TenantStore& store, const std::string& employee_id,
                                             int64_t as_of_ms) {
  ASSIGN_OR_RETURN(auto current, store.identity(employee_id));
  ASSIGN_OR_RETURN(IdentityHistory history, store.events().history(employee_id, as_of_ms));
  if (history.total_events == 0 && !current) return std::optional<IdentityAt>();
  IdentityAt at;
  if (history.total_events == 0) {
    // Known from before events were recorded: only the present is known.
    at.hr = current;
    return std::optional<IdentityAt>(std::move(at));
  }
  if (history.hr_snapshot) {
    ASSIGN_OR_RETURN(bj::value v, protocol::parseJsonText(*history.hr_snapshot));
    ASSIGN_OR_RETURN(auto rec, hr::hrRecordFromJson(v));
    at.hr = std::move(rec);
  }
  if (history.directory_snapshot) {
    ASSIGN_OR_RETURN(auto d, directoryStateFromText(*history.directory_snapshot));
    at.directory = std::move(d);
  }
  at.events = std::move(history.events);
  return std::optional<IdentityAt>(std::move(at));
}

Result<std::vector<IdentityEvent>> identityEvents(TenantStore& store,
                                                  const std::string& employee_id,
                                                  int64_t after_id, int limit) {
  return store.events().events(employee_id, after_id, limit);
}

Result<int64_t> parseInstant(std::string_view s) {
  auto bad = [&]() -> Result<int64_t> {
    return dataError("'" + std::string(s.substr(0, 64)) +
                     "' is neither an RFC 3339 time (2026-11-22T08:30:00Z) nor epoch milliseconds");
  };
  auto digits = [](std::string_view t) {
    return !t.empty() && std::all_of(t.begin(), t.end(),
                                     [](unsigned char c) { return std::isdigit(c) != 0; });
  };
  if (digits(s)) {
    if (s.size() > 15) return bad();
    return std::stoll(std::string(s));
  }
  // YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)
  if (s.size() < 20) return bad();
  auto num = [&](size_t pos, size_t n) -> std::optional<int> {
    std::string_view t = s.substr(pos, n);
    if (!digits(t) || t.size() != n) return std::nullopt;
    return std::stoi(std::string(t));
  };
  auto y = num(0, 4), mo = num(5, 2), d = num(8, 2), h = num(11, 2), mi = num(14, 2),
       se = num(17, 2);
  if (!y || !mo || !d || !h || !mi || !se || s[4] != '-' || s[7] != '-' ||
      (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || s[13] != ':' || s[16] != ':') {
    return bad();
  }
  std::chrono::year_month_day ymd{std::chrono::year(*y), std::chrono::month(unsigned(*mo)),
                                  std::chrono::day(unsigned(*d))};
  if (!ymd.ok() || *h > 23 || *mi > 59 || *se > 60) return bad();
  size_t pos = 19;
  int64_t frac_ms = 0;
  if (pos < s.size() && s[pos] == '.') {
    size_t start = ++pos;
    while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos]))) ++pos;
    if (pos == start) return bad();
    std::string frac(s.substr(start, std::min<size_t>(3, pos - start)));
    while (frac.size() < 3) frac += '0';
    frac_ms = std::stoi(frac);
  }
  if (pos >= s.size()) return bad();
  int64_t offset_min = 0;
  if (s[pos] == 'Z' || s[pos] == 'z') {
    ++pos;
  } else if (s[pos] == '+' || s[pos] == '-') {
    auto oh = num(pos + 1, 2), om = num(pos + 4, 2);
    if (!oh || !om || pos + 6 != s.size() || s[pos + 3] != ':' || *oh > 23 || *om > 59) {
      return bad();
    }
    offset_min = (*oh * 60 + *om) * (s[pos] == '+' ? 1 : -1);
    pos += 6;
  } else {
    return bad();
  }
  if (pos != s.size()) return bad();
  const int64_t days = std::chrono::sys_days(ymd).time_since_epoch().count();
  const int64_t secs = days * 86'400 + *h * 3600 + *mi * 60 + std::min(*se, 59);
  return (secs - offset_min * 60) * 1000 + frac_ms;
}

}  // namespace tenure::cp
