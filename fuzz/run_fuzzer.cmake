# Runs one libFuzzer binary for SECONDS seconds on WORK/corpus: the seed corpus SEEDS
# copied there first (what earlier runs found stays), so the source tree is never
# written. A crashing input lands in WORK/artifacts/ and fails the test.
#
#   cmake -DFUZZER=... -DSEEDS=... -DWORK=... -DSECONDS=60 -P run_fuzzer.cmake

foreach(_var FUZZER SEEDS WORK SECONDS)
  if(NOT DEFINED ${_var})
    message(FATAL_ERROR "run_fuzzer.cmake: -D${_var}=... is required")
  endif()
endforeach()

file(MAKE_DIRECTORY ${WORK}/corpus ${WORK}/artifacts)
file(GLOB _seeds ${SEEDS}/*)
file(COPY ${_seeds} DESTINATION ${WORK}/corpus)

# RocksDB's and Cap'n Proto's process-wide caches are not leaks of an input.
set(ENV{ASAN_OPTIONS} "detect_leaks=0:abort_on_error=1:$ENV{ASAN_OPTIONS}")
set(ENV{UBSAN_OPTIONS} "print_stacktrace=1:halt_on_error=1:$ENV{UBSAN_OPTIONS}")
execute_process(
  COMMAND ${FUZZER} -max_total_time=${SECONDS} -timeout=60 -rss_limit_mb=4096
          -print_final_stats=1 -artifact_prefix=${WORK}/artifacts/ ${WORK}/corpus
  WORKING_DIRECTORY ${WORK}
  RESULT_VARIABLE _rc)
if(NOT _rc EQUAL 0)
  file(GLOB _found ${WORK}/artifacts/*)
  message(FATAL_ERROR "${FUZZER} failed (${_rc}); reproduce with: ${FUZZER} ${_found}")
endif()
