#include "controlplane/api/route_table.h"

#include <algorithm>

#include "common/protocol/messages.h"
#include "controlplane/http/responses.h"

namespace tenure::cp::api {

std::string_view authKindName(AuthKind kind) {
  switch (kind) {
    case AuthKind::kUnspecified: return "unspecified";
    case AuthKind::kNone: return "none";
    case AuthKind::kNodeKey: return "node_key";
    case AuthKind::kTenantToken: return "tenant_token";
    case AuthKind::kAdminToken: return "admin_token";
  }
  return "unspecified";
}

const std::string& ApiRequest::param(std::string_view name) const {
  static const std::string kEmpty;
  for (const auto& [k, v] : params) {
    if (k == name) return v;
  }
  return kEmpty;
}

std::string ApiRequest::query(const std::string& name, const std::string& fallback) const {
  auto it = http.query.find(name);
  return it == http.query.end() ? fallback : it->second;
}

ErrorStyle protocolErrors() {
  return ErrorStyle{
      [](int status, const std::string& code, const std::string& message) {
        return errorResponse(status, code, message);
      },
      [](const Status& st) { return storeFailure(st); }};
}

namespace {

// One segment of a pattern: a literal, "{name}", or "literal{name}" (a literal prefix).
struct PatternSegment {
  std::string literal;
  std::string name;  // empty: the segment is the literal alone
};

std::vector<PatternSegment> compilePattern(const std::string& pattern) {
  std::vector<PatternSegment> out;
  for (const std::string& s : pathSegments(pattern)) {
    const size_t open = s.find('{');
    if (open != std::string::npos && s.back() == '}') {
      out.push_back({s.substr(0, open), s.substr(open + 1, s.size() - open - 2)});
    } else {
      out.push_back({s, ""});
    }
  }
  return out;
}

}  // namespace

struct RouteTable::Compiled {
  Route route;
  std::vector<PatternSegment> segments;

  bool audited() const {
    return route.audited.value_or(route.auth == AuthKind::kTenantToken ||
                                  route.auth == AuthKind::kAdminToken);
  }
  RouteInfo info() const { return {route.method, route.pattern, route.auth, audited()}; }

  // The path's parameters when it matches the pattern.
  std::optional<std::vector<std::pair<std::string, std::string>>> match(
      const std::vector<std::string>& path) const {
    if (path.size() != segments.size()) return std::nullopt;
    std::vector<std::pair<std::string, std::string>> params;
    for (size_t i = 0; i < path.size(); ++i) {
      const PatternSegment& p = segments[i];
      if (p.name.empty()) {
        if (path[i] != p.literal) return std::nullopt;
        continue;
      }
      if (!path[i].starts_with(p.literal) || path[i].size() == p.literal.size()) {
        return std::nullopt;
      }
      params.emplace_back(p.name, path[i].substr(p.literal.size()));
    }
    return params;
  }
};

RouteTable::RouteTable(Authenticator& authenticator, AuditRecorder recorder)
    : authenticator_(authenticator), recorder_(std::move(recorder)) {}

RouteTable::~RouteTable() = default;

void RouteTable::addSurface(Surface surface) { surfaces_.push_back(std::move(surface)); }

Status RouteTable::add(Route route) {
  if (route.auth == AuthKind::kUnspecified) {
    return internalError(route.method + " " + route.pattern + ": no authentication kind");
  }
  if (route.pattern.empty() || route.pattern.front() != '/' || !route.handler) {
    return internalError(route.method + " " + route.pattern + ": bad pattern or no handler");
  }
  for (const auto& r : routes_) {
    if (r->route.method == route.method && r->route.pattern == route.pattern) {
      return internalError(route.method + " " + route.pattern + " is registered twice");
    }
  }
  auto c = std::make_unique<Compiled>();
  c->segments = compilePattern(route.pattern);
  c->route = std::move(route);
  routes_.push_back(std::move(c));
  return Status::ok();
}

std::vector<RouteInfo> RouteTable::routes() const {
  std::vector<RouteInfo> out;
  for (const auto& r : routes_) out.push_back(r->info());
  return out;
}

const Surface* RouteTable::surfaceOf(const std::vector<std::string>& segments) const {
  const Surface* best = nullptr;
  size_t best_len = 0;
  for (const auto& s : surfaces_) {
    const auto prefix = pathSegments(s.prefix);
    if (prefix.size() > segments.size() || prefix.size() < best_len) continue;
    if (std::equal(prefix.begin(), prefix.end(), segments.begin())) {
      best = &s;
      best_len = prefix.size();
    }
  }
  return best;
}

void RouteTable::handle(HttpServerRequest http, Responder respond) const {
  const std::vector<std::string> segments = pathSegments(http.path);
  const Surface* surface = surfaceOf(segments);
  const ErrorStyle errors = surface ? surface->errors : protocolErrors();

  const Compiled* found = nullptr;
  std::vector<const Compiled*> other_methods;
  std::vector<std::pair<std::string, std::string>> params;
  for (const auto& r : routes_) {
    auto m = r->match(segments);
    if (!m) continue;
    if (r->route.method == http.method) {
      found = r.get();
      params = std::move(*m);
      break;
    }
    other_methods.push_back(r.get());
  }

  // The credential is checked before the answer says anything about the path.
  AuthKind auth = found                    ? found->route.auth
                  : !other_methods.empty() ? other_methods.front()->route.auth
                  : surface                ? surface->auth
                                           : AuthKind::kNone;
  ApiRequest req;
  if (auth != AuthKind::kNone && auth != AuthKind::kUnspecified) {
    auto outcome = authenticator_.authenticate(auth, http);
    if (auto* refusal = std::get_if<AuthRefusal>(&outcome)) {
      respond(!refusal->store_failure.isOk()
                  ? errors.store_failure(refusal->store_failure)
                  : errors.refuse(refusal->status, refusal->code, refusal->message));
      return;
    }
    req.principal = std::move(std::get<Principal>(outcome));
  }
  if (!found) {
    if (!other_methods.empty()) {
      std::string allowed;
      for (const auto* r : other_methods) {
        allowed += (allowed.empty() ? "" : ", ") + r->route.method;
      }
      HttpServerResponse res =
          errors.refuse(405, protocol::kErrBadRequest, "method not allowed: use " + allowed);
      res.headers["Allow"] = allowed;
      respond(std::move(res));
      return;
    }
    respond(errors.refuse(404, protocol::kErrNotFound, "no such endpoint"));
    return;
  }
  req.http = std::move(http);
  req.params = std::move(params);
  if (recorder_ && found->audited()) respond = recorder_(req, found->info(), std::move(respond));
  found->route.handler(req, std::move(respond));
}

}  // namespace tenure::cp::api
