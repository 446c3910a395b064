// BLIS: pick the sub-configuration from the CPU before BLIS's first call, initialise it,
// and record what it runs as (bench.json "context").
#pragma once

namespace klb {
// Call once, first thing in main: may setenv BLIS_ARCH_TYPE, then bli_init().
void blis_prepare();
// BLIS's own team size for the calls that follow.
void blis_set_threads(int threads);
}  // namespace klb
