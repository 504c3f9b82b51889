#pragma once
// ControlPlane: the composition root of tenure-cp. Opens the stores of a data directory and builds
// every component on them in dependency order — the service (intake, queue), tickets, report
// digests, the HR connector, the scheduler and the API with its route table — wiring each to the
// ones it needs. `tenure-cp serve` runs it behind the HTTPS server; `tenure-cp routes` lists its
// route table.

#include <boost/asio/io_context.hpp>

#include <filesystem>
#include <memory>
#include <string>

#include "common/base/clock.h"
#include "common/base/status.h"
#include "common/net/http_client.h"
#include "common/net/mail_transport.h"
#include "controlplane/api/control_plane_api.h"
#include "controlplane/connectors/connector_service.h"
#include "controlplane/digest/report_digest.h"
#include "controlplane/scheduler/scheduler.h"
#include "controlplane/secrets/tenant_keys.h"
#include "controlplane/service/control_plane_service.h"
#include "controlplane/store/control_store.h"
#include "controlplane/store/tenant_store.h"
#include "controlplane/tickets/ticket_service.h"

namespace tenure::cp {

struct ControlPlaneOptions {
  std::filesystem::path data_dir;
  std::string master_key_file;  // default: data_dir/master.key
  ServiceOptions service;
  TicketOptions tickets;
  DigestOptions digest;
  // Outbound HTTP (ticket sinks, HR connectors) and SMTP (smtp sinks, report digests); null:
  // libcurl (CurlHttpClient, CurlMailTransport), owned by the control plane. Set: must outlive it.
  net::HttpClient* http = nullptr;
  net::MailTransport* mail = nullptr;
};

class ControlPlane {
 public:
  // Opens (creating when new) the control database, the tenants' folder and the master key, and
  // builds the components. Nothing runs until start().
  static Result<std::unique_ptr<ControlPlane>> open(boost::asio::io_context& io, const Clock& clock,
                                                    ControlPlaneOptions options);
  ~ControlPlane();

  // Startup recovery (ControlPlaneService::recover), then the held-poll sweep, the scheduler and
  // the ticket checks and deliveries.
  Status start();
  // Graceful drain: no new scheduled work, held polls answered.
  void stopAccepting();
  // Stops the ticket worker (after the io_context stopped).
  void stop();

  api::ControlPlaneApi& api() { return *api_; }

 private:
  ControlPlane() = default;
  // Before every component: they hold references to these.
  std::unique_ptr<net::HttpClient> own_http_;
  std::unique_ptr<net::MailTransport> own_mail_;

  std::unique_ptr<ControlStore> control_;
  std::unique_ptr<TenantStores> tenants_;
  std::unique_ptr<TenantKeys> keys_;
  // In dependency order (each is destroyed before what it uses).
  std::unique_ptr<TicketService> tickets_;
  std::unique_ptr<ControlPlaneService> service_;
  std::unique_ptr<connectors::ConnectorService> connectors_;
  std::unique_ptr<ReportDigestService> digests_;
  std::unique_ptr<Scheduler> scheduler_;
  std::unique_ptr<api::ControlPlaneApi> api_;
};

}  // namespace tenure::cp
