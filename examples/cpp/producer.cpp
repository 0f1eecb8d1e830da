// Send COUNT messages with the C++ wrapper: synchronously (default), asynchronously, or orderly.
//
//   producer NAMESRV TOPIC COUNT [sync|async|orderly]
//
// Same bodies and output as examples/c/producer.c.
#include <rmq.hpp>

#include <condition_variable>
#include <cstdlib>
#include <iostream>
#include <mutex>

int main(int argc, char **argv) {
    if (argc < 4) {
        std::cerr << "usage: " << argv[0] << " NAMESRV TOPIC COUNT [sync|async|orderly]\n";
        return 2;
    }
    const std::string topic = argv[2], mode = argc > 4 ? argv[4] : "sync";
    const long count = std::atol(argv[3]);
    try {
        rmq::Producer producer("PG_cpp_example", argv[1]);
        producer.set_send_timeout_ms(5000).start();

        std::mutex lock;
        std::condition_variable done;
        long completed = 0, failed = 0;
        for (long i = 0; i < count; i++) {
            std::string body = mode == "orderly" ? "order-" + std::to_string(i % 4) + ":" + std::to_string(i / 4)
                                                 : topic + "-" + std::to_string(i);
            rmq::Message msg(topic, body);
            msg.set_tags("TagA").set_keys("key-" + std::to_string(i)).put_property("index", std::to_string(i));
            if (mode == "sync") {
                rmq::SendResult r = producer.send(msg);
                if (r.status != RMQ_SEND_STATUS_OK) throw std::runtime_error("send status " + std::to_string(r.status));
            } else if (mode == "async") {
                // Runs on a librmq thread.
                producer.send_async(msg, [&](const rmq::SendResult *r, const rmq::Error *e) {
                    std::lock_guard<std::mutex> g(lock);
                    if (r == nullptr) {
                        std::cerr << "async send failed: " << e->what() << "\n";
                        failed++;
                    }
                    completed++;
                    done.notify_one();
                });
            } else if (mode == "orderly") {
                producer.send_orderly(msg, "order-" + std::to_string(i % 4));
            } else {
                std::cerr << "unknown mode " << mode << "\n";
                return 2;
            }
        }
        if (mode == "async") {
            std::unique_lock<std::mutex> g(lock);
            done.wait(g, [&] { return completed == count; });
            if (failed) return 1;
        }
        producer.shutdown();
    } catch (const rmq::Error &e) {
        std::cerr << "error: " << e.what() << "\n";
        return 1;
    }
    std::cout << "sent " << count << "\n";
    return 0;
}
