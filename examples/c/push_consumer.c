/* Consume TOPIC with a push consumer from the first offset until EXPECTED messages arrived.
 *
 *   push_consumer NAMESRV TOPIC GROUP EXPECTED [TIMEOUT_SECONDS]
 *
 * Prints "received <queue_id> <queue_offset> <body>" per message, then "total N"; exits 0 when
 * EXPECTED messages arrived within the timeout (default 60 s). */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <rmq.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static void die(const char *what, rmq_status st) {
    char err[512];
    rmq_last_error(err, sizeof err, NULL);
    fprintf(stderr, "%s failed: %s: %s\n", what, rmq_status_str(st), err);
    exit(1);
}

#define TRY(call)                                  \
    do {                                           \
        rmq_status st_ = (call);                   \
        if (st_ != RMQ_STATUS_OK) die(#call, st_); \
    } while (0)

struct state {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    long received;
};

/* Runs on the consumer's threads, several at once: messages are valid only during the call. */
static uint32_t on_messages(const rmq_message_ext *const *msgs, size_t count, void *userdata) {
    struct state *s = userdata;
    for (size_t i = 0; i < count; i++) {
        const uint8_t *body;
        size_t len;
        rmq_message_info info;
        if (rmq_message_ext_get_body(msgs[i], &body, &len) != RMQ_STATUS_OK ||
            rmq_message_ext_get_info(msgs[i], &info) != RMQ_STATUS_OK)
            return RMQ_CONSUME_RESULT_LATER;
        pthread_mutex_lock(&s->lock);
        printf("received %d %lld %.*s\n", info.queue_id, (long long)info.queue_offset, (int)len, (const char *)body);
        s->received++;
        pthread_cond_signal(&s->cond);
        pthread_mutex_unlock(&s->lock);
    }
    return RMQ_CONSUME_RESULT_SUCCESS;
}

int main(int argc, char **argv) {
    if (argc < 5) {
        fprintf(stderr, "usage: %s NAMESRV TOPIC GROUP EXPECTED [TIMEOUT_SECONDS]\n", argv[0]);
        return 2;
    }
    long expected = atol(argv[4]);
    int timeout = argc > 5 ? atoi(argv[5]) : 60;
    struct state s = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0};

    rmq_push_consumer *c;
    TRY(rmq_push_consumer_new(argv[3], argv[1], &c));
    TRY(rmq_push_consumer_set_consume_from(c, RMQ_CONSUME_FROM_FIRST_OFFSET, 0));
    TRY(rmq_push_consumer_set_thread_count(c, 2));
    TRY(rmq_push_consumer_subscribe(c, argv[2], "*"));
    TRY(rmq_push_consumer_set_message_callback(c, on_messages, &s));
    TRY(rmq_push_consumer_start(c));

    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += timeout;
    pthread_mutex_lock(&s.lock);
    while (s.received < expected && pthread_cond_timedwait(&s.cond, &s.lock, &deadline) == 0) {
    }
    pthread_mutex_unlock(&s.lock);

    /* After shutdown returns no callback runs any more, so `s` may go away. */
    TRY(rmq_push_consumer_shutdown(c));
    TRY(rmq_push_consumer_destroy(c));
    printf("total %ld\n", s.received);
    return s.received >= expected ? 0 : 1;
}
