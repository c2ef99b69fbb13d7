#include "sink_factory.h"

#include <unistd.h>

#include "delivery_sink.h"
#include "exec_transport.h"
#include "stdout_sink.h"

namespace batchpipe {

std::unique_ptr<Sink> make_sink(const Config& config, std::string& error) {
  if (!config.delivers()) return std::make_unique<StdoutSink>(STDOUT_FILENO);
  std::optional<DeadLetter> dead_letter =
      config.dead_letter.empty() ? std::nullopt : DeadLetter::open(config.dead_letter, error);
  if (!config.dead_letter.empty() && !dead_letter) return nullptr;
  DeliveryOptions options;
  options.retry = config.retry;
  options.timeout = config.timeout;
  options.stop_on_error = config.stop_on_error;
  options.grace = config.grace;
  options.inputs = config.inputs;
  return std::make_unique<DeliverySink>(std::make_unique<ExecTransport>(config.exec_command), std::move(options),
                                        std::move(dead_letter));
}

}  // namespace batchpipe
