// Pull every queue of TOPIC from the group's committed offset with the C++ wrapper.
//
//   pull_consumer NAMESRV TOPIC GROUP EXPECTED [TIMEOUT_SECONDS]
//
// Prints "received <queue_id> <queue_offset> <body>" per message, then "total N".
#include <rmq.hpp>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <map>

int main(int argc, char **argv) {
    if (argc < 5) {
        std::cerr << "usage: " << argv[0] << " NAMESRV TOPIC GROUP EXPECTED [TIMEOUT_SECONDS]\n";
        return 2;
    }
    const long expected = std::atol(argv[4]);
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(argc > 5 ? std::atoi(argv[5]) : 60);
    long received = 0;
    try {
        rmq::PullConsumer consumer(argv[3], argv[1]);
        consumer.start();
        auto queues = consumer.fetch_queues(argv[2]);
        std::map<int32_t, int64_t> next;
        for (const auto &q : queues) next[q.queue_id] = std::max<int64_t>(0, consumer.fetch_offset(q));
        while (received < expected && std::chrono::steady_clock::now() < end) {
            for (const auto &q : queues) {
                rmq::PullResult r = consumer.pull(q, next[q.queue_id]);
                for (const auto &m : r.messages) {
                    std::cout << "received " << m.info.queue_id << " " << m.info.queue_offset << " " << m.body << "\n";
                    received++;
                }
                if (r.status != RMQ_PULL_STATUS_NO_NEW_MSG) {
                    next[q.queue_id] = r.next_begin_offset;
                    consumer.update_offset(q, r.next_begin_offset);
                }
            }
        }
        consumer.shutdown();
    } catch (const rmq::Error &e) {
        std::cerr << "error: " << e.what() << "\n";
        return 1;
    }
    std::cout << "total " << received << std::endl;
    return received >= expected ? 0 : 1;
}
