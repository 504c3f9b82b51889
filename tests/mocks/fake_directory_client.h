#pragma once
// FakeDirectoryClient: an in-memory DirectoryClient for unit tests. It understands the filters the
// agent uses ((&...), (|...), (!...), (attr=value), (attr=*)), compares values case-insensitively as
// AD does for string attributes, enforces unique DNs and sAMAccountNames (LDAP 68), requires the
// parent of a new entry to exist (32), and can be told to fail operations.
// Integration tests use a real Samba AD instead; this only makes the executor's logic testable fast.

#include <algorithm>
#include <cctype>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "agent/directory/directory_client.h"

namespace tenure::testing {

class FakeDirectoryClient : public agent::DirectoryClient {
 public:
  using Entry = agent::DirectoryEntry;

  explicit FakeDirectoryClient(std::string server = "dc1.example.test") : server_(std::move(server)) {}

  // --- test setup and inspection ---
  void addOu(const std::string& dn) {
    Entry e;
    e.dn = dn;
    e.attributes["objectClass"] = {"top", "organizationalUnit"};
    entries_[key(dn)] = std::move(e);
  }
  // Seeds an entry as is (no checks, not counted as a write).
  void seed(Entry e) { entries_[key(e.dn)] = std::move(e); }
  const Entry* find(const std::string& dn) const {
    auto it = entries_.find(key(dn));
    return it == entries_.end() ? nullptr : &it->second;
  }
  // Entries whose objectClass includes `object_class`.
  std::vector<Entry> entriesOfClass(const std::string& object_class) const {
    std::vector<Entry> out;
    for (const auto& [k, e] : entries_) {
      if (hasValue(e, "objectClass", object_class)) out.push_back(e);
    }
    return out;
  }
  const Entry* findBySam(const std::string& sam) const {
    for (const auto& [k, e] : entries_) {
      if (hasValue(e, "sAMAccountName", sam)) return &e;
    }
    return nullptr;
  }
  // DNs of the groups whose `member` holds `dn` (what AD returns as memberOf).
  std::vector<std::string> memberOf(const std::string& dn) const {
    std::vector<std::string> out;
    for (const auto& [k, g] : entries_) {
      auto m = g.attributes.find("member");
      if (m == g.attributes.end()) continue;
      if (std::any_of(m->second.begin(), m->second.end(),
                      [&](const std::string& v) { return key(v) == key(dn); })) {
        out.push_back(g.dn);
      }
    }
    return out;
  }
  // Seeds a group (objectClass group) with the given member DNs.
  void addGroup(const std::string& dn, std::vector<std::string> members = {}) {
    Entry e;
    e.dn = dn;
    e.attributes["objectClass"] = {"top", "group"};
    if (!members.empty()) e.attributes["member"] = std::move(members);
    entries_[key(dn)] = std::move(e);
  }
  int writeCount() const { return writes_; }
  int searchCount() const { return searches_; }
  int connectCount() const { return connects_; }
  void setConnectStatus(Status s) { connect_status_ = std::move(s); }

  // Fails calls of `op` ("search", "add", "modify", "rename", "remove") whose DN (for search: the
  // filter) contains `needle`, `times` times (default: always).
  void failWhen(std::string op, std::string needle, Status st, int times = 1 << 30) {
    failures_.push_back({std::move(op), std::move(needle), std::move(st), times});
  }

  // --- DirectoryClient ---
  Status connect() override {
    ++connects_;
    return connect_status_;
  }
  std::string serverName() const override { return server_; }

  Result<std::vector<Entry>> search(const std::string& base_dn, agent::SearchScope scope,
                                    const std::string& filter,
                                    const std::vector<std::string>& attributes) override {
    ++searches_;
    if (auto st = injected("search", filter); !st.isOk()) return st;
    if (!find(base_dn)) return Status(ErrorClass::kNotFound, "no such object: " + base_dn, 32);
    size_t pos = 0;
    auto node = parseFilter(filter, pos);
    if (!node || pos != filter.size()) {
      return Status(ErrorClass::kData, "bad search filter: " + filter, 87);
    }
    std::vector<Entry> out;
    for (const auto& [k, e] : entries_) {
      if (!inScope(e.dn, base_dn, scope) || !node->matches(e)) continue;
      Entry copy;
      copy.dn = e.dn;
      auto wanted = [&](const std::string& name) {
        return attributes.empty() ||
               std::any_of(attributes.begin(), attributes.end(),
                           [&](const std::string& a) { return iequals(a, name); });
      };
      for (const auto& [name, values] : e.attributes) {
        if (wanted(name)) copy.attributes[name] = values;
      }
      if (wanted("memberOf")) {
        // AD computes memberOf from the groups' member values (a back link).
        std::vector<std::string> groups = memberOf(e.dn);
        if (!groups.empty()) copy.attributes["memberOf"] = std::move(groups);
      }
      out.push_back(std::move(copy));
    }
    return out;
  }

  Status add(const std::string& dn, const std::vector<agent::Modification>& attributes) override {
    RETURN_IF_ERROR(injected("add", dn));
    if (find(dn)) return Status(ErrorClass::kConflict, "entry already exists: " + dn, 68);
    if (!find(parentOf(dn))) return Status(ErrorClass::kNotFound, "no such parent: " + dn, 32);
    Entry e;
    e.dn = dn;
    for (const auto& m : attributes) {
      auto& vals = e.attributes[m.attribute];
      vals.insert(vals.end(), m.values.begin(), m.values.end());
    }
    const std::string sam = e.first("sAMAccountName");
    if (!sam.empty() && findBySam(sam)) {
      return Status(ErrorClass::kConflict, "00000524: UpdErr: DSID-031A11E2, problem 6005 "
                                           "(ENTRY_EXISTS), data 0", 68);
    }
    e.attributes["cn"] = {rdnValue(dn)};
    entries_[key(dn)] = std::move(e);
    ++writes_;
    return Status::ok();
  }

  Status modify(const std::string& dn, const std::vector<agent::Modification>& changes) override {
    RETURN_IF_ERROR(injected("modify", dn));
    auto it = entries_.find(key(dn));
    if (it == entries_.end()) return Status(ErrorClass::kNotFound, "no such object: " + dn, 32);
    Entry e = it->second;  // all or nothing, like LDAP
    for (const auto& m : changes) {
      auto& vals = e.attributes[m.attribute];
      switch (m.op) {
        case agent::Modification::Op::kAdd:
          for (const auto& v : m.values) {
            if (containsValue(vals, v)) {
              return Status(ErrorClass::kConflict, "attribute or value exists", 20);
            }
            vals.push_back(v);
          }
          break;
        case agent::Modification::Op::kReplace:
          vals = m.values;
          break;
        case agent::Modification::Op::kDelete:
          if (vals.empty()) return Status(ErrorClass::kData, "no such attribute " + m.attribute, 16);
          if (m.values.empty()) {
            vals.clear();
          } else {
            for (const auto& v : m.values) {
              auto pos = std::find_if(vals.begin(), vals.end(),
                                      [&](const std::string& x) { return iequals(x, v); });
              if (pos == vals.end()) return Status(ErrorClass::kData, "no such value", 16);
              vals.erase(pos);
            }
          }
          break;
      }
      if (vals.empty()) e.attributes.erase(m.attribute);
    }
    it->second = std::move(e);
    ++writes_;
    return Status::ok();
  }

  Status rename(const std::string& dn, const std::string& new_rdn,
                const std::string& new_parent_dn) override {
    RETURN_IF_ERROR(injected("rename", dn));
    auto it = entries_.find(key(dn));
    if (it == entries_.end()) return Status(ErrorClass::kNotFound, "no such object: " + dn, 32);
    const std::string parent = new_parent_dn.empty() ? parentOf(dn) : new_parent_dn;
    if (!find(parent)) return Status(ErrorClass::kNotFound, "no such parent: " + parent, 32);
    const std::string new_dn = new_rdn + "," + parent;
    if (key(new_dn) != key(dn) && find(new_dn)) {
      return Status(ErrorClass::kConflict, "entry already exists: " + new_dn, 68);
    }
    Entry e = std::move(it->second);
    entries_.erase(it);
    e.dn = new_dn;
    e.attributes["cn"] = {rdnValue(new_dn)};
    entries_[key(new_dn)] = std::move(e);
    // AD keeps DN-valued links pointing at the moved object.
    for (auto& [k, other] : entries_) {
      for (const char* attr : {"manager", "member"}) {
        auto a = other.attributes.find(attr);
        if (a == other.attributes.end()) continue;
        for (auto& v : a->second) {
          if (key(v) == key(dn)) v = new_dn;
        }
      }
    }
    ++writes_;
    return Status::ok();
  }

  Status remove(const std::string& dn) override {
    RETURN_IF_ERROR(injected("remove", dn));
    if (entries_.erase(key(dn)) == 0) return Status(ErrorClass::kNotFound, "no such object", 32);
    // AD drops the links to a deleted object.
    for (auto& [k, other] : entries_) {
      for (const char* attr : {"manager", "member"}) {
        auto a = other.attributes.find(attr);
        if (a == other.attributes.end()) continue;
        std::erase_if(a->second, [&](const std::string& v) { return key(v) == key(dn); });
        if (a->second.empty()) other.attributes.erase(a);
      }
    }
    ++writes_;
    return Status::ok();
  }

 private:
  struct Failure {
    std::string op;
    std::string needle;
    Status status;
    int remaining;
  };

  struct Node {
    char kind = '=';  // '&', '|', '!', '=' (equality), '*' (presence)
    std::string attr;
    std::string value;
    std::vector<Node> children;
    bool matches(const Entry& e) const {
      switch (kind) {
        case '&':
          return std::all_of(children.begin(), children.end(), [&](const Node& n) { return n.matches(e); });
        case '|':
          return std::any_of(children.begin(), children.end(), [&](const Node& n) { return n.matches(e); });
        case '!':
          return !children[0].matches(e);
        case '*':
          return e.has(attr);
        default:
          return hasValue(e, attr, value);
      }
    }
  };

  static std::optional<Node> parseFilter(const std::string& f, size_t& pos) {
    if (pos >= f.size() || f[pos] != '(') return std::nullopt;
    ++pos;
    Node n;
    if (pos < f.size() && (f[pos] == '&' || f[pos] == '|' || f[pos] == '!')) {
      n.kind = f[pos++];
      while (pos < f.size() && f[pos] == '(') {
        auto child = parseFilter(f, pos);
        if (!child) return std::nullopt;
        n.children.push_back(std::move(*child));
      }
      if (n.kind == '!' && n.children.size() != 1) return std::nullopt;
    } else {
      const size_t eq = f.find('=', pos);
      const size_t close = f.find(')', pos);
      if (eq == std::string::npos || close == std::string::npos || eq > close) return std::nullopt;
      n.attr = f.substr(pos, eq - pos);
      const std::string raw = f.substr(eq + 1, close - eq - 1);
      pos = close;
      if (raw == "*") {
        n.kind = '*';
      } else {
        if (raw.find('*') != std::string::npos) return std::nullopt;  // substrings: not needed
        for (size_t i = 0; i < raw.size(); ++i) {
          if (raw[i] == '\\' && i + 2 < raw.size() && std::isxdigit(static_cast<unsigned char>(raw[i + 1])) &&
              std::isxdigit(static_cast<unsigned char>(raw[i + 2]))) {
            n.value += static_cast<char>(std::stoi(raw.substr(i + 1, 2), nullptr, 16));
            i += 2;
          } else if (raw[i] == '\\' || raw[i] == '(') {
            return std::nullopt;  // unescaped special character: the caller forgot to escape
          } else {
            n.value += raw[i];
          }
        }
      }
    }
    if (pos >= f.size() || f[pos] != ')') return std::nullopt;
    ++pos;
    return n;
  }

  static bool iequals(const std::string& a, const std::string& b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
             return std::tolower(static_cast<unsigned char>(x)) ==
                    std::tolower(static_cast<unsigned char>(y));
           });
  }
  static bool containsValue(const std::vector<std::string>& vals, const std::string& v) {
    return std::any_of(vals.begin(), vals.end(), [&](const std::string& x) { return iequals(x, v); });
  }
  static bool hasValue(const Entry& e, const std::string& attr, const std::string& v) {
    auto it = e.attributes.find(attr);
    return it != e.attributes.end() && containsValue(it->second, v);
  }
  static std::string key(const std::string& dn) {
    std::string k;
    for (char c : dn) k += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return k;
  }
  static size_t firstComma(const std::string& dn) {
    for (size_t i = 0; i < dn.size(); ++i) {
      if (dn[i] == '\\') {
        ++i;
      } else if (dn[i] == ',') {
        return i;
      }
    }
    return std::string::npos;
  }
  static std::string parentOf(const std::string& dn) {
    const size_t c = firstComma(dn);
    return c == std::string::npos ? std::string() : dn.substr(c + 1);
  }
  static std::string rdnValue(const std::string& dn) {
    const std::string rdn = dn.substr(0, firstComma(dn));
    const size_t eq = rdn.find('=');
    std::string out;
    for (size_t i = eq + 1; i < rdn.size(); ++i) {
      if (rdn[i] == '\\' && i + 1 < rdn.size()) ++i;
      out += rdn[i];
    }
    return out;
  }
  bool inScope(const std::string& dn, const std::string& base, agent::SearchScope scope) const {
    const std::string d = key(dn), b = key(base);
    switch (scope) {
      case agent::SearchScope::kBase:
        return d == b;
      case agent::SearchScope::kOneLevel:
        return key(parentOf(dn)) == b;
      case agent::SearchScope::kSubtree:
        return d == b || (d.size() > b.size() && d.compare(d.size() - b.size(), b.size(), b) == 0 &&
                          d[d.size() - b.size() - 1] == ',');
    }
    return false;
  }
  Status injected(const std::string& op, const std::string& subject) {
    for (auto& f : failures_) {
      if (f.remaining > 0 && f.op == op && subject.find(f.needle) != std::string::npos) {
        --f.remaining;
        return f.status;
      }
    }
    return Status::ok();
  }

  std::string server_;
  std::map<std::string, Entry> entries_;  // by lower-cased DN
  std::vector<Failure> failures_;
  Status connect_status_;
  int writes_ = 0;
  int searches_ = 0;
  int connects_ = 0;
};

}  // namespace tenure::testing
