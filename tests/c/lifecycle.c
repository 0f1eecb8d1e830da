/* Lifecycles under load, for valgrind/ASan (issue 6): start/shutdown in a loop, a consumer callback
 * running while shutdown is called, async sends racing producer shutdown.
 *
 *   lifecycle NAMESRV TOPIC GROUP
 *
 * TOPIC must already hold messages (the test sends them first). Prints "N passed, N failed". */
#define _DEFAULT_SOURCE
#include <pthread.h>
#include <rmq.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int passed, failed;
#define CHECK(cond)                                                                      \
    do {                                                                                 \
        if (cond) passed++;                                                              \
        else {                                                                           \
            failed++;                                                                    \
            char e_[512];                                                                \
            rmq_last_error(e_, sizeof e_, NULL);                                         \
            fprintf(stderr, "%s:%d: CHECK failed: %s (last error: %s)\n", __FILE__, __LINE__, #cond, e_); \
        }                                                                                \
    } while (0)
#define OK(call) CHECK((call) == RMQ_STATUS_OK)

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int running, finished, started, self_shutdown_refused;
static rmq_push_consumer *current;

static uint32_t slow_callback(const rmq_message_ext *const *msgs, size_t count, void *userdata) {
    (void)userdata;
    const uint8_t *body;
    size_t len;
    pthread_mutex_lock(&lock);
    running++;
    started++;
    pthread_mutex_unlock(&lock);
    /* Shutting down one's own consumer from its callback would wait for itself: refused. */
    if (rmq_push_consumer_shutdown(current) == RMQ_STATUS_ILLEGAL_STATE) {
        pthread_mutex_lock(&lock);
        self_shutdown_refused++;
        pthread_mutex_unlock(&lock);
    }
    usleep(300 * 1000);
    /* The messages are still valid here, while shutdown waits in the main thread. */
    for (size_t i = 0; i < count; i++) rmq_message_ext_get_body(msgs[i], &body, &len);
    pthread_mutex_lock(&lock);
    running--;
    finished++;
    pthread_mutex_unlock(&lock);
    return RMQ_CONSUME_RESULT_SUCCESS;
}

static int async_done;
static void on_sent(rmq_status status, const rmq_send_result *result, void *userdata) {
    (void)result;
    (void)userdata;
    pthread_mutex_lock(&lock);
    if (status == RMQ_STATUS_OK || status == RMQ_STATUS_SHUTDOWN) async_done++;
    pthread_mutex_unlock(&lock);
}

static int read_int(int *v) {
    pthread_mutex_lock(&lock);
    int x = *v;
    pthread_mutex_unlock(&lock);
    return x;
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: %s NAMESRV TOPIC GROUP\n", argv[0]);
        return 2;
    }
    const char *ns = argv[1], *topic = argv[2], *group = argv[3];
    setvbuf(stdout, NULL, _IOLBF, 0); /* progress lines survive a crash */
    rmq_message *m;
    OK(rmq_message_new(topic, &m));
    OK(rmq_message_set_body(m, (const uint8_t *)"lifecycle", 9));

    printf("phase 1\n");
    /* 1. Producer start / send / shutdown in a loop. */
    for (int i = 0; i < 3; i++) {
        rmq_producer *p;
        rmq_send_result r;
        OK(rmq_producer_new("PG_lifecycle", ns, &p));
        OK(rmq_producer_start(p));
        OK(rmq_producer_send(p, m, &r));
        OK(rmq_producer_shutdown(p));
        OK(rmq_producer_destroy(p));
    }

    printf("phase 2\n");
    /* 2. Async sends racing shutdown: each callback runs exactly once (OK or SHUTDOWN). */
    {
        rmq_producer *p;
        OK(rmq_producer_new("PG_lifecycle", ns, &p));
        OK(rmq_producer_start(p));
        for (int i = 0; i < 20; i++) OK(rmq_producer_send_async(p, m, on_sent, NULL));
        OK(rmq_producer_destroy(p));
        for (int i = 0; i < 100 && read_int(&async_done) < 20; i++) usleep(50 * 1000);
        CHECK(read_int(&async_done) == 20);
    }

    printf("phase 3\n");
    /* 3. Push consumer start / shutdown in a loop (no callback necessarily runs). */
    for (int i = 0; i < 3; i++) {
        rmq_push_consumer *c;
        OK(rmq_push_consumer_new("CG_lifecycle_loop", ns, &c));
        OK(rmq_push_consumer_subscribe(c, topic, "*"));
        OK(rmq_push_consumer_set_message_callback(c, slow_callback, NULL));
        current = c;
        OK(rmq_push_consumer_start(c));
        OK(rmq_push_consumer_shutdown(c));
        OK(rmq_push_consumer_destroy(c));
        CHECK(read_int(&running) == 0);
    }

    printf("phase 4\n");
    /* 4. Shutdown while a callback runs: shutdown waits for it. */
    {
        rmq_push_consumer *c;
        OK(rmq_push_consumer_new(group, ns, &c));
        OK(rmq_push_consumer_set_consume_from(c, RMQ_CONSUME_FROM_FIRST_OFFSET, 0));
        OK(rmq_push_consumer_set_thread_count(c, 2));
        OK(rmq_push_consumer_subscribe(c, topic, "*"));
        OK(rmq_push_consumer_set_message_callback(c, slow_callback, NULL));
        current = c;
        int before = read_int(&started);
        OK(rmq_push_consumer_start(c));
        for (int i = 0; i < 600 && read_int(&started) == before; i++) usleep(50 * 1000);
        CHECK(read_int(&started) > before);
        OK(rmq_push_consumer_shutdown(c)); /* a callback is sleeping right now */
        CHECK(read_int(&running) == 0);
        int after = read_int(&started);
        usleep(500 * 1000);
        CHECK(read_int(&started) == after); /* nothing runs after shutdown returned */
        CHECK(read_int(&self_shutdown_refused) == after);
        OK(rmq_push_consumer_destroy(c));
        CHECK(rmq_push_consumer_destroy(c) == RMQ_STATUS_INVALID_HANDLE);
    }

    OK(rmq_message_destroy(m));
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
