#pragma once
// The seam between the code that detects problems (job results, held runs, quarantined jobs,
// HR feeds, agent health, certificates) and the ticket system that deduplicates, stores and
// routes them. Detectors call raise() each time they see the condition and clear() when they see
// it gone; the ticket system decides what is new, what is a repeat and what resolves.

#include <string>

namespace tenure::cp {

struct Detection {
  std::string tenant_id;
  // job_failed | job_quarantined | agent_silent | hr_feed | bad_hr_data | run_held |
  // directory_permission | certificate_expiry
  std::string detector;
  // What the condition is about, stable across occurrences: a run id, an agent id, an employee
  // id, a feed name. (tenant_id, detector, subject) is the ticket's fingerprint.
  std::string subject;
  std::string summary;  // one line for people
  std::string hint;     // how to fix it
};

class TicketRaiser {
 public:
  virtual ~TicketRaiser() = default;
  // Opens a ticket, or counts one more occurrence of the unresolved one with this fingerprint.
  // Never fails the caller: the ticket system logs and retries its own faults.
  virtual void raise(const Detection& detection) = 0;
  // The condition is gone: resolves the unresolved ticket with this fingerprint, if any.
  virtual void clear(const std::string& tenant_id, const std::string& detector,
                     const std::string& subject) = 0;
};

// For tools and tests that run the service without tickets.
class NullTicketRaiser final : public TicketRaiser {
 public:
  void raise(const Detection&) override {}
  void clear(const std::string&, const std::string&, const std::string&) override {}
};

}  // namespace tenure::cp
