/* Producer and push-consumer options over the C ABI, checked by what the broker delivers:
 * compress threshold (a compressible body over it is sent compressed; the Rust test reads the
 * stored flag and the body), max message size (RMQ_STATUS_MESSAGE_TOO_LARGE), broadcasting (two
 * consumers of one group each get every message), consume from first offset / timestamp (the
 * broker runs with accessMessageInMemoryMaxRatio=0 so a new group's start is the client's
 * choice), max batch size (no callback gets more), max reconsume times 0 (a failed message goes
 * straight to the group's DLQ; the Rust test counts it there).
 *
 *   options NAMESRV TOPIC
 *
 * Prints "big <length>" and "N passed, N failed". */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <rmq.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int passed, failed;
#define CHECK(cond)                                                                           \
    do {                                                                                      \
        if (cond) passed++;                                                                   \
        else {                                                                                \
            failed++;                                                                         \
            char e_[512];                                                                     \
            rmq_last_error(e_, sizeof e_, NULL);                                              \
            fprintf(stderr, "%s:%d: CHECK failed: %s (last error: %s)\n", __FILE__, __LINE__, #cond, e_); \
        }                                                                                     \
    } while (0)
#define OK(call) CHECK((call) == RMQ_STATUS_OK)

#define EARLY 20
#define LATE 10

static int64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* What one consumer saw: early-<i> and late-<i> bodies by index, largest batch, calls. */
struct seen {
    pthread_mutex_t lock;
    int early[EARLY], late[LATE];
    size_t max_batch;
    int calls, other;
    uint32_t result;
};

static uint32_t on_msgs(const rmq_message_ext *const *msgs, size_t count, void *userdata) {
    struct seen *s = userdata;
    pthread_mutex_lock(&s->lock);
    s->calls++;
    if (count > s->max_batch) s->max_batch = count;
    for (size_t k = 0; k < count; k++) {
        const uint8_t *b = NULL;
        size_t len = 0;
        char body[64] = {0};
        if (rmq_message_ext_get_body(msgs[k], &b, &len) != RMQ_STATUS_OK) continue;
        memcpy(body, b, len < sizeof body - 1 ? len : sizeof body - 1);
        int i;
        if (sscanf(body, "early-%d", &i) == 1 && i >= 0 && i < EARLY) s->early[i]++;
        else if (sscanf(body, "late-%d", &i) == 1 && i >= 0 && i < LATE) s->late[i]++;
        else s->other++;
    }
    uint32_t r = s->result;
    pthread_mutex_unlock(&s->lock);
    return r;
}

static int count_of(struct seen *s, int early, int late) {
    int n = 0;
    pthread_mutex_lock(&s->lock);
    for (int i = 0; early && i < EARLY; i++) n += s->early[i] > 0;
    for (int i = 0; late && i < LATE; i++) n += s->late[i] > 0;
    pthread_mutex_unlock(&s->lock);
    return n;
}

static rmq_push_consumer *consumer(const char *ns, const char *group, const char *name, const char *topic,
                                   uint32_t model, uint32_t from, int64_t ts, struct seen *s) {
    rmq_push_consumer *c = NULL;
    OK(rmq_push_consumer_new(group, ns, &c));
    OK(rmq_push_consumer_set_instance_name(c, name));
    OK(rmq_push_consumer_set_message_model(c, model));
    OK(rmq_push_consumer_set_consume_from(c, from, ts));
    OK(rmq_push_consumer_subscribe(c, topic, "*"));
    OK(rmq_push_consumer_set_message_callback(c, on_msgs, s));
    return c;
}

static int wait_for(struct seen *s, int early, int late, int want) {
    for (int t = 0; t < 600; t++) {
        if (count_of(s, early, late) >= want) return 1;
        sleep_ms(50);
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s NAMESRV TOPIC\n", argv[0]);
        return 2;
    }
    const char *ns = argv[1], *topic = argv[2];
    char big_topic[128], dlq_topic[128];
    snprintf(big_topic, sizeof big_topic, "%s_big", topic);
    snprintf(dlq_topic, sizeof dlq_topic, "%s_dlq", topic);

    rmq_producer *p = NULL;
    OK(rmq_producer_new("PG_c_options", ns, &p));
    OK(rmq_producer_set_compress_threshold(p, 100));
    OK(rmq_producer_set_max_message_size(p, 64 * 1024));
    OK(rmq_producer_start(p));
    rmq_send_result r;
    char body[64];
    for (int i = 0; i < EARLY; i++) {
        rmq_message *m = NULL;
        int n = snprintf(body, sizeof body, "early-%d", i);
        OK(rmq_message_new(topic, &m));
        OK(rmq_message_set_body(m, (const uint8_t *)body, (size_t)n));
        OK(rmq_producer_send(p, m, &r));
        rmq_message_destroy(m);
    }
    sleep_ms(100);
    int64_t ts = now_ms();
    sleep_ms(100);
    for (int i = 0; i < LATE; i++) {
        rmq_message *m = NULL;
        int n = snprintf(body, sizeof body, "late-%d", i);
        OK(rmq_message_new(topic, &m));
        OK(rmq_message_set_body(m, (const uint8_t *)body, (size_t)n));
        OK(rmq_producer_send(p, m, &r));
        rmq_message_destroy(m);
    }
    /* Over the compress threshold (100): 20000 compressible bytes, read back by the Rust test. */
    size_t big_len = 20000;
    uint8_t *big = malloc(big_len);
    for (size_t i = 0; i < big_len; i++) big[i] = (uint8_t)('a' + (i * 7 + i / 100) % 26);
    rmq_message *m = NULL;
    OK(rmq_message_new(big_topic, &m));
    OK(rmq_message_set_body(m, big, big_len));
    OK(rmq_producer_send(p, m, &r));
    printf("big %zu\n", big_len);
    rmq_message_destroy(m);
    /* Over the max message size (64 KiB): refused with its own status, nothing sent. */
    uint8_t *huge = calloc(70000, 1);
    OK(rmq_message_new(big_topic, &m));
    OK(rmq_message_set_body(m, huge, 70000));
    CHECK(rmq_producer_send(p, m, &r) == RMQ_STATUS_MESSAGE_TOO_LARGE);
    rmq_message_destroy(m);
    free(huge);
    free(big);
    /* One message for the DLQ check. */
    OK(rmq_message_new(dlq_topic, &m));
    OK(rmq_message_set_body(m, (const uint8_t *)"early-0", 7));
    OK(rmq_producer_send(p, m, &r));
    rmq_message_destroy(m);

    static struct seen bc1, bc2, by_ts, first, batch, dlq;
    struct seen *all[] = {&bc1, &bc2, &by_ts, &first, &batch, &dlq};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++) pthread_mutex_init(&all[i]->lock, NULL);
    dlq.result = RMQ_CONSUME_RESULT_LATER;

    rmq_push_consumer *cs[6];
    cs[0] = consumer(ns, "CG_c_bc", "bc1", topic, RMQ_MESSAGE_MODEL_BROADCASTING, RMQ_CONSUME_FROM_FIRST_OFFSET, 0, &bc1);
    cs[1] = consumer(ns, "CG_c_bc", "bc2", topic, RMQ_MESSAGE_MODEL_BROADCASTING, RMQ_CONSUME_FROM_FIRST_OFFSET, 0, &bc2);
    cs[2] = consumer(ns, "CG_c_ts", "ts", topic, RMQ_MESSAGE_MODEL_CLUSTERING, RMQ_CONSUME_FROM_TIMESTAMP, ts, &by_ts);
    cs[3] = consumer(ns, "CG_c_first", "first", topic, RMQ_MESSAGE_MODEL_CLUSTERING, RMQ_CONSUME_FROM_FIRST_OFFSET, 0, &first);
    cs[4] = consumer(ns, "CG_c_batch", "batch", topic, RMQ_MESSAGE_MODEL_CLUSTERING, RMQ_CONSUME_FROM_FIRST_OFFSET, 0, &batch);
    OK(rmq_push_consumer_set_max_batch_size(cs[4], 3));
    OK(rmq_push_consumer_set_thread_count(cs[4], 1));
    cs[5] = consumer(ns, "CG_c_dlq", "dlq", dlq_topic, RMQ_MESSAGE_MODEL_CLUSTERING, RMQ_CONSUME_FROM_FIRST_OFFSET, 0, &dlq);
    OK(rmq_push_consumer_set_max_reconsume_times(cs[5], 0));
    for (int i = 0; i < 6; i++) OK(rmq_push_consumer_start(cs[i]));

    /* Broadcasting: each member gets every message. */
    CHECK(wait_for(&bc1, 1, 1, EARLY + LATE));
    CHECK(wait_for(&bc2, 1, 1, EARLY + LATE));
    /* Timestamp: the late messages only. First offset: all. */
    CHECK(wait_for(&by_ts, 0, 1, LATE));
    CHECK(wait_for(&first, 1, 1, EARLY + LATE));
    CHECK(wait_for(&batch, 1, 1, EARLY + LATE));
    for (int t = 0; t < 200 && dlq.calls == 0; t++) sleep_ms(50);
    sleep_ms(1000); /* late duplicates or stray deliveries would show now */
    for (int i = 0; i < 6; i++) OK(rmq_push_consumer_shutdown(cs[i]));
    CHECK(count_of(&by_ts, 1, 0) == 0);
    CHECK(by_ts.other == 0 && first.other == 0 && bc1.other == 0 && bc2.other == 0);
    /* At most 3 per call, and the batching is real (pulls bring several per queue). */
    CHECK(batch.max_batch == 3);
    CHECK(dlq.calls == 1); /* no redelivery: max reconsume times 0 sends it to the DLQ */
    for (int i = 0; i < 6; i++) OK(rmq_push_consumer_destroy(cs[i]));
    OK(rmq_producer_shutdown(p));
    OK(rmq_producer_destroy(p));
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
