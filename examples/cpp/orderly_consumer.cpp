// The orderly consumer: push_consumer.cpp with an orderly listener (per-queue order).
//
//   orderly_consumer NAMESRV TOPIC GROUP EXPECTED [TIMEOUT_SECONDS]
#define RMQ_EXAMPLE_ORDERLY true
#include "push_consumer.cpp"
