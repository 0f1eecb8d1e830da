// The C++ wrapper's send_with_selector, send_to_queue and send_batch against a live broker.
// Prints "sent <queue id> <queue offset> <body>" per message (the Rust test reads each back
// from the broker at that place) and "N passed, N failed".
//
//   send_modes NAMESRV TOPIC
#include <rmq.hpp>

#include <cstdint>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

static int passed, failed;
#define CHECK(cond)                                                                 \
    do {                                                                            \
        if (cond) {                                                                 \
            passed++;                                                               \
        } else {                                                                    \
            failed++;                                                               \
            std::cerr << __FILE__ << ":" << __LINE__ << ": CHECK failed: " #cond "\n"; \
        }                                                                           \
    } while (0)

int main(int argc, char **argv) {
    if (argc < 3) {
        std::cerr << "usage: " << argv[0] << " NAMESRV TOPIC\n";
        return 2;
    }
    const std::string topic = argv[2];
    try {
        rmq::Producer p("PG_cpp_modes", argv[1]);
        p.start();
        auto print = [](const rmq::SendResult &r, long k, const std::string &body) {
            std::cout << "sent " << r.queue.queue_id << " " << (r.queue_offset + k) << " " << body << "\n";
        };

        // Selector: sees every queue of the topic and the message; its pick is where it lands.
        std::vector<rmq::MessageQueue> seen;
        for (int i = 0; i < 8; i++) {
            std::string body = "sel-" + std::to_string(i);
            rmq::Message m(topic, body);
            size_t picked = 0;
            rmq::SendResult r = p.send_with_selector(m, [&](const std::vector<rmq::MessageQueue> &qs, const rmq::Message &) {
                seen = qs;
                picked = static_cast<size_t>(i) % qs.size();
                return picked;
            });
            CHECK(r.status == RMQ_SEND_STATUS_OK);
            CHECK(seen.size() == 4 && r.queue.queue_id == seen[picked].queue_id && r.queue.topic == topic);
            print(r, 0, body);
        }
        // A selector that throws: nothing is sent and the exception reaches the caller; returning
        // SIZE_MAX cancels the same way, as rmq::Error. The Rust test counts what is stored.
        bool thrown = false;
        try {
            p.send_with_selector(rmq::Message(topic, "never"),
                                 [](const std::vector<rmq::MessageQueue> &, const rmq::Message &) -> size_t {
                                     throw std::logic_error("no queue for this one");
                                 });
        } catch (const std::logic_error &e) {
            thrown = std::string(e.what()) == "no queue for this one";
        }
        CHECK(thrown);
        bool refused = false;
        try {
            p.send_with_selector(rmq::Message(topic, "never"),
                                 [](const std::vector<rmq::MessageQueue> &, const rmq::Message &) -> size_t { return SIZE_MAX; });
        } catch (const rmq::Error &e) {
            refused = e.status() == RMQ_STATUS_INVALID_ARGUMENT;
        }
        CHECK(refused);
        // A chosen queue.
        CHECK(seen.size() == 4);
        if (seen.size() == 4) {
            for (int i = 0; i < 3; i++) {
                std::string body = "q3-" + std::to_string(i);
                rmq::SendResult r = p.send_to_queue(rmq::Message(topic, body), seen[3]);
                CHECK(r.queue.queue_id == seen[3].queue_id);
                print(r, 0, body);
            }
        }

        // A batch: one queue, consecutive offsets from the result's.
        std::vector<rmq::Message> batch;
        std::vector<std::string> bodies;
        for (int i = 0; i < 5; i++) {
            bodies.push_back("batch-" + std::to_string(i));
            batch.emplace_back(topic, bodies.back());
        }
        rmq::SendResult r = p.send_batch(batch);
        CHECK(r.status == RMQ_SEND_STATUS_OK);
        for (long k = 0; k < 5; k++) print(r, k, bodies[k]);
        p.shutdown();
    } catch (const rmq::Error &e) {
        std::cerr << "error " << e.status() << ": " << e.what() << "\n";
        return 1;
    }
    std::cout << passed << " passed, " << failed << " failed\n";
    return failed ? 1 : 0;
}
