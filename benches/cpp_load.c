/* Load generator over the C API of Apache's C++ client (rocketmq-client-cpp), for
 * benches/request_path.sh. Compiled against include/rocketmq/ (the same declarations) and linked
 * with whichever librocketmq.so is given: Apache's from PyPI `rocketmq` 0.4.4, or ours.
 * Prints one JSON line; asserts nothing.
 *
 *   cpp_load produce NAMESRV TOPIC THREADS SECONDS SIZE
 *   cpp_load pull    NAMESRV TOPIC COUNT            (pull consumer, batches of 32, from offset 0)
 *   cpp_load push    NAMESRV TOPIC COUNT SECONDS    (push consumer, new group, from the start)
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "rocketmq/CErrorMessage.h"
#include "rocketmq/CMessage.h"
#include "rocketmq/CMessageExt.h"
#include "rocketmq/CProducer.h"
#include "rocketmq/CPullConsumer.h"
#include "rocketmq/CPushConsumer.h"
#include "rocketmq/CSendResult.h"

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

#define MAX_SAMPLES 4000000
static double *lat;           /* per-send latency in microseconds */
static atomic_long nlat;
static atomic_long errors;
static atomic_int stop_flag;
static double load_start; /* now_s() when the senders start */

struct prod_arg {
  CProducer *p;
  const char *topic;
  int size;
};

static void *producer_thread(void *a) {
  struct prod_arg *arg = a;
  char *body = malloc(arg->size + 1);
  memset(body, 'x', arg->size);
  body[arg->size] = 0;
  CMessage *m = CreateMessage(arg->topic);
  SetMessageTags(m, "TagA");
  SetMessageBody(m, body);
  while (!atomic_load(&stop_flag)) {
    CSendResult r;
    double t0 = now_s();
    int rc = SendMessageSync(arg->p, m, &r);
    double us = (now_s() - t0) * 1e6;
    if (rc != 0 || r.sendStatus != E_SEND_OK) {
      /* The first few failures are described on stderr (what the client says went wrong). */
      if (atomic_fetch_add(&errors, 1) < 5)
        fprintf(stderr, "send failed at %.3f s: rc=%d status=%d after %.0f us: %s\n",
                t0 - load_start, rc, rc != 0 ? -1 : (int)r.sendStatus, us,
                rc != 0 ? GetLatestErrorMessage() : "");
      continue;
    }
    long i = atomic_fetch_add(&nlat, 1);
    if (i < MAX_SAMPLES) lat[i] = us;
  }
  DestroyMessage(m);
  free(body);
  return NULL;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double pct(double *v, long n, double p) {
  if (n == 0) return 0;
  long i = (long)(p * (n - 1));
  return v[i];
}

static int produce(const char *ns, const char *topic, int threads, int seconds, int size) {
  CProducer *p = CreateProducer("BenchCppProducer");
  SetProducerNameServerAddress(p, ns);
  SetProducerLogPath(p, "/tmp");
  SetProducerSendMsgTimeout(p, 10000);
  if (StartProducer(p) != 0) {
    fprintf(stderr, "StartProducer failed\n");
    return 1;
  }
  lat = calloc(MAX_SAMPLES, sizeof(double));
  /* Warm up: routes and connections. */
  {
    CMessage *m = CreateMessage(topic);
    SetMessageBody(m, "warm");
    for (int i = 0; i < 200; i++) {
      CSendResult r;
      SendMessageSync(p, m, &r);
    }
    DestroyMessage(m);
  }
  pthread_t *t = calloc(threads, sizeof(pthread_t));
  struct prod_arg arg = {p, topic, size};
  double t0 = now_s();
  load_start = now_s();
  for (int i = 0; i < threads; i++) pthread_create(&t[i], NULL, producer_thread, &arg);
  sleep(seconds);
  atomic_store(&stop_flag, 1);
  for (int i = 0; i < threads; i++) pthread_join(t[i], NULL);
  double el = now_s() - t0;
  long n = atomic_load(&nlat);
  long ns_ = n < MAX_SAMPLES ? n : MAX_SAMPLES;
  qsort(lat, ns_, sizeof(double), cmp_double);
  printf("{\"mode\":\"produce\",\"threads\":%d,\"size\":%d,\"sent\":%ld,\"errors\":%ld,"
         "\"seconds\":%.2f,\"msg_per_s\":%.0f,\"p50_us\":%.0f,\"p99_us\":%.0f,\"p999_us\":%.0f}\n",
         threads, size, n, atomic_load(&errors), el, n / el, pct(lat, ns_, 0.5),
         pct(lat, ns_, 0.99), pct(lat, ns_, 0.999));
  ShutdownProducer(p);
  DestroyProducer(p);
  return 0;
}

static int pull(const char *ns, const char *topic, long count) {
  CPullConsumer *c = CreatePullConsumer("BenchCppPull");
  SetPullConsumerNameServerAddress(c, ns);
  SetPullConsumerLogPath(c, "/tmp");
  if (StartPullConsumer(c) != 0) {
    fprintf(stderr, "StartPullConsumer failed\n");
    return 1;
  }
  CMessageQueue *mqs = NULL;
  int nq = 0;
  if (FetchSubscriptionMessageQueues(c, topic, &mqs, &nq) != 0 || nq == 0) {
    fprintf(stderr, "no queues for %s\n", topic);
    return 1;
  }
  long long *off = calloc(nq, sizeof(long long));
  int *done = calloc(nq, sizeof(int));
  long got = 0, pulls = 0;
  int left = nq;
  double t0 = now_s();
  while (got < count && left > 0) {
    for (int q = 0; q < nq && got < count; q++) {
      if (done[q]) continue;
      CPullResult r = Pull(c, &mqs[q], "*", off[q], 32);
      pulls++;
      if (r.pullStatus == E_FOUND) {
        got += r.size;
        off[q] = r.nextBeginOffset;
      } else if (r.pullStatus == E_OFFSET_ILLEGAL) {
        off[q] = r.nextBeginOffset;
      } else {
        done[q] = 1;
        left--;
      }
      ReleasePullResult(r);
    }
  }
  double el = now_s() - t0;
  printf("{\"mode\":\"pull\",\"batch\":32,\"received\":%ld,\"pulls\":%ld,\"seconds\":%.2f,"
         "\"msg_per_s\":%.0f}\n",
         got, pulls, el, got / el);
  ReleaseSubscriptionMessageQueue(mqs);
  ShutdownPullConsumer(c);
  DestroyPullConsumer(c);
  return 0;
}

static atomic_long consumed;

static int on_message(CPushConsumer *c, CMessageExt *m) {
  (void)c;
  (void)m;
  atomic_fetch_add(&consumed, 1);
  return E_CONSUME_SUCCESS;
}

static int push(const char *ns, const char *topic, long count, int seconds) {
  char group[64];
  snprintf(group, sizeof group, "BenchCppPush%ld", (long)getpid());
  CPushConsumer *c = CreatePushConsumer(group);
  SetPushConsumerNameServerAddress(c, ns);
  SetPushConsumerLogPath(c, "/tmp");
  SetPushConsumerThreadCount(c, 4);
  Subscribe(c, topic, "*");
  RegisterMessageCallback(c, on_message);
  double t0 = now_s(), first = 0;
  if (StartPushConsumer(c) != 0) {
    fprintf(stderr, "StartPushConsumer failed\n");
    return 1;
  }
  while (atomic_load(&consumed) < count && now_s() - t0 < seconds) {
    if (first == 0 && atomic_load(&consumed) > 0) first = now_s();
    usleep(1000);
  }
  double end = now_s();
  long n = atomic_load(&consumed);
  if (first == 0) first = t0;
  printf("{\"mode\":\"push\",\"received\":%ld,\"seconds\":%.2f,\"msg_per_s\":%.0f}\n", n,
         end - first, n / (end - first));
  ShutdownPushConsumer(c);
  DestroyPushConsumer(c);
  return 0;
}

int main(int argc, char **argv) {
  if (argc >= 7 && !strcmp(argv[1], "produce"))
    return produce(argv[2], argv[3], atoi(argv[4]), atoi(argv[5]), atoi(argv[6]));
  if (argc >= 5 && !strcmp(argv[1], "pull")) return pull(argv[2], argv[3], atol(argv[4]));
  if (argc >= 6 && !strcmp(argv[1], "push"))
    return push(argv[2], argv[3], atol(argv[4]), atoi(argv[5]));
  fprintf(stderr,
          "usage: cpp_load produce NS TOPIC THREADS SECONDS SIZE | pull NS TOPIC COUNT |"
          " push NS TOPIC COUNT SECONDS\n");
  return 2;
}
