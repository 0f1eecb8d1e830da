/* Send COUNT messages to TOPIC, synchronously (default), asynchronously, one-way, as batches of
 * 10, or orderly (sharding key "order-<i % 4>").
 *
 *   producer NAMESRV TOPIC COUNT [sync|async|oneway|batch|orderly]
 *
 * Bodies are "<TOPIC>-<i>" (orderly: "order-<k>:<seq>"); each message has tag TagA, key key-<i>
 * and property index=<i>. Prints "sent N" and exits 0 when every send succeeded. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <rmq.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* Async sends complete on librmq threads: count them under a lock. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t done_cond = PTHREAD_COND_INITIALIZER;
static long async_ok, async_failed;

static void on_sent(rmq_status status, const rmq_send_result *result, void *userdata) {
    (void)result;
    (void)userdata;
    pthread_mutex_lock(&lock);
    if (status == RMQ_STATUS_OK) async_ok++; else async_failed++;
    pthread_cond_signal(&done_cond);
    pthread_mutex_unlock(&lock);
}

static rmq_message *make(const char *topic, long i, const char *body) {
    rmq_message *m;
    char key[32], index[32];
    snprintf(key, sizeof key, "key-%ld", i);
    snprintf(index, sizeof index, "%ld", i);
    TRY(rmq_message_new(topic, &m));
    TRY(rmq_message_set_body(m, (const uint8_t *)body, strlen(body)));
    TRY(rmq_message_set_tags(m, "TagA"));
    TRY(rmq_message_set_keys(m, key));
    TRY(rmq_message_put_property(m, "index", index));
    return m;
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: %s NAMESRV TOPIC COUNT [sync|async|oneway|batch|orderly]\n", argv[0]);
        return 2;
    }
    const char *ns = argv[1], *topic = argv[2], *mode = argc > 4 ? argv[4] : "sync";
    long count = atol(argv[3]);

    rmq_producer *p;
    TRY(rmq_producer_new("PG_c_example", ns, &p));
    TRY(rmq_producer_set_send_timeout_ms(p, 5000));
    TRY(rmq_producer_start(p));

    char body[128];
    rmq_send_result r;
    for (long i = 0; i < count;) {
        if (strcmp(mode, "batch") == 0) {
            rmq_message *batch[10];
            size_t n = 0;
            for (; n < 10 && i < count; n++, i++) {
                snprintf(body, sizeof body, "%s-%ld", topic, i);
                batch[n] = make(topic, i, body);
            }
            TRY(rmq_producer_send_batch(p, (const rmq_message *const *)batch, n, &r));
            for (size_t k = 0; k < n; k++) rmq_message_destroy(batch[k]);
            continue;
        }
        if (strcmp(mode, "orderly") == 0)
            snprintf(body, sizeof body, "order-%ld:%ld", i % 4, i / 4);
        else
            snprintf(body, sizeof body, "%s-%ld", topic, i);
        rmq_message *m = make(topic, i, body);
        if (strcmp(mode, "sync") == 0) {
            TRY(rmq_producer_send(p, m, &r));
            if (r.status != RMQ_SEND_STATUS_OK) die("send status", RMQ_STATUS_OK);
        } else if (strcmp(mode, "async") == 0) {
            TRY(rmq_producer_send_async(p, m, on_sent, NULL));
        } else if (strcmp(mode, "oneway") == 0) {
            TRY(rmq_producer_send_oneway(p, m));
        } else if (strcmp(mode, "orderly") == 0) {
            char key[32];
            snprintf(key, sizeof key, "order-%ld", i % 4);
            TRY(rmq_producer_send_orderly(p, m, key, &r));
        } else {
            fprintf(stderr, "unknown mode %s\n", mode);
            return 2;
        }
        rmq_message_destroy(m); /* sends copy the message */
        i++;
    }
    if (strcmp(mode, "async") == 0) {
        pthread_mutex_lock(&lock);
        while (async_ok + async_failed < count) pthread_cond_wait(&done_cond, &lock);
        pthread_mutex_unlock(&lock);
        if (async_failed) {
            fprintf(stderr, "%ld async sends failed\n", async_failed);
            return 1;
        }
    }
    TRY(rmq_producer_shutdown(p));
    TRY(rmq_producer_destroy(p));
    printf("sent %ld\n", count);
    return 0;
}
