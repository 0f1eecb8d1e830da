// Consume TOPIC with the C++ wrapper's push consumer from the first offset.
//
//   push_consumer NAMESRV TOPIC GROUP EXPECTED [TIMEOUT_SECONDS] [orderly]
//
// Prints "received <queue_id> <queue_offset> <body>" per message, then "total N". With "orderly",
// each queue's messages arrive one at a time in queue order (the orderly example is this program
// with that flag: examples/cpp/orderly_consumer.cpp).
#include <rmq.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <string>

#ifndef RMQ_EXAMPLE_ORDERLY
#define RMQ_EXAMPLE_ORDERLY false
#endif

int main(int argc, char **argv) {
    if (argc < 5) {
        std::cerr << "usage: " << argv[0] << " NAMESRV TOPIC GROUP EXPECTED [TIMEOUT_SECONDS]\n";
        return 2;
    }
    const long expected = std::atol(argv[4]);
    const int timeout = argc > 5 ? std::atoi(argv[5]) : 60;
    std::mutex lock;
    std::condition_variable cond;
    long received = 0;
    try {
        rmq::PushConsumer consumer(argv[3], argv[1]);
        consumer.set_consume_from(RMQ_CONSUME_FROM_FIRST_OFFSET).subscribe(argv[2], "*");
        // Runs on the consumer's threads; the message is a copy owned by the lambda's argument.
        consumer.on_message(
            [&](const rmq::ReceivedMessage &m) {
                std::lock_guard<std::mutex> g(lock);
                std::cout << "received " << m.info.queue_id << " " << m.info.queue_offset << " " << m.body << "\n";
                received++;
                cond.notify_one();
                return RMQ_CONSUME_RESULT_SUCCESS;
            },
            RMQ_EXAMPLE_ORDERLY);
        consumer.start();
        {
            std::unique_lock<std::mutex> g(lock);
            cond.wait_for(g, std::chrono::seconds(timeout), [&] { return received >= expected; });
        }
        consumer.shutdown();  // waits for running callbacks; the destructor frees
    } catch (const rmq::Error &e) {
        std::cerr << "error: " << e.what() << "\n";
        return 1;
    }
    std::cout << "total " << received << std::endl;
    return received >= expected ? 0 : 1;
}
