// Ticket detectors that live where the queue sees the condition: job results (failed people,
// permission and data errors). Rejected HR rows are raised by the intake, held runs by the plan
// review (control_plane_service.cpp), quarantined jobs in job_queue.cpp; silent agents and the
// TLS certificate are checked periodically by TicketService itself.
//
// Fingerprints (detector / subject):
//   job_failed / "job:<kind>"          the job itself failed (cannot bind, crashed, ...); cleared by
//                                       the next result of that kind without a job-level error
//   job_failed / <employee_id>          one person failed (conflict, transient, internal);
//                                       cleared by a later successful outcome for that person
//   bad_hr_data / <employee_id>         a rejected row at submission, or an outcome with a data
//                                       error (unknown manager, manager cycle); cleared by a later
//                                       successful outcome for that person
//   directory_permission / "job:<kind>" the job-level error is a permission error
//   directory_permission / "ou:<dn>"    a person failed with a permission error in that OU;
//                                       cleared by a later success in the same OU

#include <spdlog/spdlog.h>

#include "controlplane/queue/job_queue.h"

namespace tenure::cp {

namespace {

// "CN=Ann Lee,OU=Staff,DC=x" -> "OU=Staff,DC=x" (escaped commas "\," are not separators).
std::string parentDn(const std::string& dn) {
  for (size_t i = 0; i < dn.size(); ++i) {
    if (dn[i] == '\\') {
      ++i;
      continue;
    }
    if (dn[i] == ',') return dn.substr(i + 1);
  }
  return "";
}

std::string hintFor(const std::string& error_class, const std::string& employee_id,
                    const std::string& where) {
  if (error_class == "permission") {
    return "Grant the agent's service account the rights it needs" +
           (where.empty() ? std::string() : " on " + where) +
           " (create, modify, move, enable/disable user objects, reset passwords); the next "
           "run retries.";
  }
  if (error_class == "data") {
    return "Correct the HR record of " + employee_id +
           " (for example its manager must be a known employee_id and must not lead back to the "
           "person) and send it again.";
  }
  if (error_class == "conflict") {
    return "Another directory object already holds this name or the object changed during the "
           "run; check the account of " + employee_id + " in AD, the next run re-plans.";
  }
  if (error_class == "config") {
    return "Check the tenant policy (OUs, groups and domain names must exist in the directory).";
  }
  if (error_class == "transient") {
    return "The directory or network was unavailable; the next run retries. If it persists, "
           "check the domain controller the agent uses.";
  }
  return "See the run report for the directory's message; the next run retries.";
}

}  // namespace

void JobQueue::detectResultProblems(const std::string& tenant_id, const JobRecord& job,
                                    const protocol::JobResult& result) {
  TicketRaiser& t = tickets_;
  const std::string job_subject = "job:" + job.kind;
  if (!result.error_class.empty() || result.status == "failed") {
    const bool permission = result.error_class == "permission";
    const std::string cls = result.error_class.empty() ? "internal" : result.error_class;
    t.raise(Detection{tenant_id, permission ? "directory_permission" : "job_failed", job_subject,
                      "Run " + job.run_id + " (" + job.kind + ") failed: " + cls + ": " +
                          result.error_message,
                      hintFor(cls, "", result.domain_controller.empty()
                                           ? ""
                                           : "the domain (DC " + result.domain_controller + ")")});
  } else {
    t.clear(tenant_id, "job_failed", job_subject);
    t.clear(tenant_id, "directory_permission", job_subject);
  }
  for (const auto& o : result.outcomes) {
    if (o.employee_id.empty()) continue;
    if (!o.failed()) {
      t.clear(tenant_id, "job_failed", o.employee_id);
      t.clear(tenant_id, "bad_hr_data", o.employee_id);
      if (std::string ou = parentDn(o.dn); !ou.empty()) {
        t.clear(tenant_id, "directory_permission", "ou:" + ou);
      }
      continue;
    }
    const std::string what = "Run " + job.run_id + ": " + o.employee_id + " (" + o.action +
                             "): " + o.error_class + ": " + o.error_message;
    if (o.error_class == "permission") {
      const std::string ou = parentDn(o.dn);
      t.raise(Detection{tenant_id, "directory_permission",
                        ou.empty() ? o.employee_id : "ou:" + ou, what,
                        hintFor(o.error_class, o.employee_id, ou)});
    } else if (o.error_class == "data") {
      t.raise(Detection{tenant_id, "bad_hr_data", o.employee_id, what,
                        hintFor(o.error_class, o.employee_id, "")});
    } else {
      t.raise(Detection{tenant_id, "job_failed", o.employee_id, what,
                        hintFor(o.error_class, o.employee_id, "")});
    }
  }
}

}  // namespace tenure::cp
