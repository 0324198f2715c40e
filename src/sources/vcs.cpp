#include "sources/vcs.h"

namespace pb::sources {

task<result<slice_report>> vcs_slice(const environment&, storage::source_record s, std::int64_t) {
  co_return make_error(error_code::unprocessable, "syncing " + s.type + " sources is not available yet");
}

}  // namespace pb::sources
