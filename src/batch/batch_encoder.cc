#include "batch/batch_encoder.h"

namespace batchpipe {

Batch part_of(const Batch& batch, const std::vector<uint32_t>& indices) {
  Batch part;
  part.number = batch.number;
  part.first = batch.first;
  part.last = batch.last;
  part.route = batch.route;
  part.route_memory = batch.route_memory;
  part.first_seq = batch.first_seq;
  BatchEncoder::open(part, *batch.format);
  const BodyFormat& f = *batch.format;
  for (uint32_t i : indices) {
    if (part.records) part.bytes.append(f.separator());
    std::string_view framed = batch.framed_record(i);
    if (f.per_record_action())  // the record's own action line goes with it
      part.starts.push_back(static_cast<uint32_t>(part.bytes.size() + (batch.record(i).data() - framed.data())));
    part.bytes.append(framed);
    part.ends.push_back(static_cast<uint32_t>(part.bytes.size() - f.after().size()));
    ++part.records;
    if (batch.at.size() == batch.records) part.at.push_back(batch.at[i]);
  }
  BatchEncoder::close(part);
  return part;
}

}  // namespace batchpipe
