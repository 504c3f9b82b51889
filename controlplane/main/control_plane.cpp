#include "controlplane/main/control_plane.h"

#include <spdlog/spdlog.h>

#include "common/net/curl_http_client.h"
#include "common/net/curl_mail_transport.h"

namespace tenure::cp {

Result<std::unique_ptr<ControlPlane>> ControlPlane::open(boost::asio::io_context& io,
                                                         const Clock& clock,
                                                         ControlPlaneOptions o) {
  std::unique_ptr<ControlPlane> cp(new ControlPlane());
  ASSIGN_OR_RETURN(cp->control_, ControlStore::open((o.data_dir / "control.db").string(), clock));
  cp->tenants_ = std::make_unique<TenantStores>((o.data_dir / "tenants").string(), clock);
  const std::string key_file =
      o.master_key_file.empty() ? (o.data_dir / "master.key").string() : o.master_key_file;
  auto keys = TenantKeys::open(*cp->control_, key_file);
  if (!keys.isOk()) return keys.status().withContext("master key");
  cp->keys_ = std::move(*keys);

  net::HttpClient* http = o.http;
  if (http == nullptr) {
    net::HttpClientSettings s;
    s.user_agent = "tenure-cp";
    s.default_content_type.clear();  // each caller names its own
    cp->own_http_ = std::make_unique<net::CurlHttpClient>(std::move(s));
    http = cp->own_http_.get();
  }
  net::MailTransport* mail = o.mail;
  if (mail == nullptr) {
    cp->own_mail_ = std::make_unique<net::CurlMailTransport>();
    mail = cp->own_mail_.get();
  }

  ControlStore& control = *cp->control_;
  TenantStores& tenants = *cp->tenants_;
  SecretBox* box = cp->keys_.get();
  cp->tickets_ = std::make_unique<TicketService>(io, control, tenants, clock,
                                                 [box] { return box; },
                                                 SinkTransport{*http, *mail}, o.tickets);
  cp->service_ = std::make_unique<ControlPlaneService>(
      io, control, tenants, clock, o.service,
      ServiceCollaborators{.tickets = cp->tickets_.get(), .secrets = box});
  ControlPlaneService& service = *cp->service_;
  cp->connectors_ = std::make_unique<connectors::ConnectorService>(
      service.intake(), *cp->tickets_, box, tenants, clock, *http);
  // Report digests: scheduled and sent on the ticket outbox's worker (no thread of their own).
  cp->digests_ = std::make_unique<ReportDigestService>(control, tenants, service.intake(),
                                                       *cp->tickets_, clock, o.digest);
  ReportDigestService& digests = *cp->digests_;
  service.addTenantDeletionHook(
      [&digests](const std::string& tenant_id) { return digests.forgetTenant(tenant_id); });
  cp->tickets_->addDeliveryTask([&digests] {
    auto sent = digests.runDue();
    if (!sent.isOk()) spdlog::error("report digests: {}", sent.status().toString());
  });
  // Cron schedules of every tenant; HR pulls go to the connector.
  connectors::ConnectorService& connectors = *cp->connectors_;
  cp->scheduler_ = std::make_unique<Scheduler>(
      io, service.intake(), control, tenants, clock, SchedulerOptions{},
      [&connectors](const std::string& tenant_id) {
        connectors.pullInBackground(tenant_id);
        return Status::ok();
      });
  cp->api_ = std::make_unique<api::ControlPlaneApi>(api::ApiComponents{
      .control = control,
      .tenants = tenants,
      .clock = clock,
      .service = service,
      .tickets = cp->tickets_.get(),
      .digests = cp->digests_.get(),
      .connectors = cp->connectors_.get(),
  });
  return cp;
}

ControlPlane::~ControlPlane() = default;

Status ControlPlane::start() {
  RETURN_IF_ERROR(service_->queue().recover().withContext("recovery"));
  service_->queue().start();
  scheduler_->start();
  tickets_->start();
  return Status::ok();
}

void ControlPlane::stopAccepting() {
  scheduler_->stop();
  service_->queue().stopHoldingPolls();
}

void ControlPlane::stop() { tickets_->stop(); }

}  // namespace tenure::cp
