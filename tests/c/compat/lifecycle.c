/* Bad handles, wrong-order lifecycles, a start/shutdown loop and send/receive round trips,
 * written against Apache's C API. Run plain and under valgrind by tests/it/compat.
 *
 * usage: lifecycle NAMESRV TOPIC GROUP ROUNDS LOOPS
 * Prints one line per failed check and "<n> passed, <m> failed". */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "CBatchMessage.h"
#include "CErrorMessage.h"
#include "CProducer.h"
#include "CPullConsumer.h"
#include "CPushConsumer.h"


static int passed = 0, failed = 0;
#define CHECK(cond)                                                        \
  do {                                                                     \
    if (cond) {                                                            \
      passed++;                                                            \
    } else {                                                               \
      failed++;                                                            \
      printf("FAILED line %d: %s (%s)\n", __LINE__, #cond, GetLatestErrorMessage()); \
    }                                                                      \
  } while (0)

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int last_seen = -1, received = 0, async_done = 0;
static int self_stop = -1, self_destroy = -1;

static int on_message(CPushConsumer* c, CMessageExt* m) {
  const char* idx = GetMessageProperty(m, "round");
  if (idx != NULL && strcmp(idx, "self") == 0) {
    /* Shutdown/Destroy from inside the consumer's own callback would wait for itself. */
    int st = ShutdownPushConsumer(c), dt = DestroyPushConsumer(c);
    pthread_mutex_lock(&lock);
    self_stop = st;
    self_destroy = dt;
    pthread_cond_broadcast(&cond);
    pthread_mutex_unlock(&lock);
    return E_CONSUME_SUCCESS;
  }
  pthread_mutex_lock(&lock);
  received++;
  if (idx != NULL && idx[0] != 0) last_seen = atoi(idx);
  pthread_cond_broadcast(&cond);
  pthread_mutex_unlock(&lock);
  return E_CONSUME_SUCCESS;
}

static void on_ok(CSendResult r) {
  (void)r;
  pthread_mutex_lock(&lock);
  async_done++;
  pthread_mutex_unlock(&lock);
}

static void on_fail(CMQException e) {
  (void)e;
  pthread_mutex_lock(&lock);
  async_done++;
  pthread_mutex_unlock(&lock);
}

static char fail_msg[MAX_EXEPTION_MSG_LENGTH], fail_type[MAX_EXEPTION_TYPE_LENGTH];
static int fail_seen = 0;

static void on_fail_record(CMQException e) {
  pthread_mutex_lock(&lock);
  snprintf(fail_msg, sizeof fail_msg, "%s", e.msg);
  snprintf(fail_type, sizeof fail_type, "%s", e.type);
  fail_seen++;
  pthread_cond_broadcast(&cond);
  pthread_mutex_unlock(&lock);
}

static int pick_first(int size, CMessage* m, void* arg) {
  (void)size;
  (void)m;
  (void)arg;
  return 0;
}

static void layouts(void) {
  CHECK(sizeof(CSendResult) == 272 && offsetof(CSendResult, offset) == 264);
  CHECK(sizeof(CMQException) == 904 && offsetof(CMQException, msg) == 264 && offsetof(CMQException, type) == 776);
  CHECK(sizeof(CMessageQueue) == 772 && offsetof(CMessageQueue, queueId) == 768);
  CHECK(sizeof(CPullResult) == 56 && offsetof(CPullResult, msgFoundList) == 32 && offsetof(CPullResult, pData) == 48);
  CHECK(OK == 0 && NULL_POINTER == 1 && PRODUCER_SEND_SYNC_FAILED == 11 && PRODUCER_SEND_TRANSACTION_FAILED == 16);
  CHECK(PUSHCONSUMER_START_FAILED == 20 && PULLCONSUMER_FETCH_MQ_FAILED == 31 && Not_Support == 500);
  CHECK(BROADCASTING == 0 && CLUSTERING == 1 && E_RECONSUME_LATER == 1 && E_UNKNOWN_TRANSACTION == 2);
  CHECK(E_BROKER_TIMEOUT == 4 && E_SEND_SLAVE_NOT_AVAILABLE == 3 && E_LOG_LEVEL_TRACE == 6);
}

static void null_handles(void) {
  CSendResult r;
  CHECK(CreateProducer(NULL) == NULL && CreatePushConsumer(NULL) == NULL && CreatePullConsumer(NULL) == NULL);
  CHECK(StartProducer(NULL) == NULL_POINTER && ShutdownProducer(NULL) == NULL_POINTER);
  CHECK(DestroyProducer(NULL) == NULL_POINTER && SetProducerNameServerAddress(NULL, "x") == NULL_POINTER);
  CHECK(SendMessageSync(NULL, NULL, &r) == NULL_POINTER && SendMessageOneway(NULL, NULL) == NULL_POINTER);
  CHECK(StartPushConsumer(NULL) == NULL_POINTER && DestroyPushConsumer(NULL) == NULL_POINTER);
  CHECK(Subscribe(NULL, "t", "*") == NULL_POINTER && RegisterMessageCallback(NULL, on_message) == NULL_POINTER);
  CHECK(StartPullConsumer(NULL) == NULL_POINTER && DestroyPullConsumer(NULL) == NULL_POINTER);
  CHECK(DestroyMessage(NULL) == NULL_POINTER && SetMessageBody(NULL, "b") == NULL_POINTER);
  CHECK(AddMessage(NULL, NULL) == NULL_POINTER && DestroyBatchMessage(NULL) == NULL_POINTER);
  CHECK(GetMessageTopic(NULL) == NULL && GetMessageQueueId(NULL) == NULL_POINTER && GetOriginMessageTopic(NULL) == NULL);
  CHECK(GetPushConsumerGroupID(NULL) == NULL && ShowPushConsumerVersion(NULL) == NULL);
  CHECK(strcmp(ShowProducerVersion(NULL), DEFAULT_SDK_VERSION) == 0);
  CHECK(ReleaseSubscriptionMessageQueue(NULL) == NULL_POINTER);
  CPullResult pr = Pull(NULL, NULL, "*", 0, 1);
  CHECK(pr.pullStatus == E_BROKER_TIMEOUT && pr.size == 0 && pr.msgFoundList == NULL);
  CHECK(ReleasePullResult(pr) == NULL_POINTER);
  CHECK(GetLatestErrorMessage() != NULL && strlen(GetLatestErrorMessage()) > 0);
}

static void destroyed_handles(void) {
  CProducer* p = CreateProducer("PG_dead");
  CHECK(p != NULL && DestroyProducer(p) == OK);
  CHECK(DestroyProducer(p) == NULL_POINTER && StartProducer(p) == NULL_POINTER);
  CHECK(SetProducerGroupName(p, "x") == NULL_POINTER && strcmp(ShowProducerVersion(p), DEFAULT_SDK_VERSION) == 0);
  CMessage* m = CreateMessage("T");
  CHECK(SetMessageTags(m, "A") == OK && strcmp(GetOriginMessageTags(m), "A") == 0);
  CHECK(strcmp(GetMessageTopic((CMessageExt*)m), "T") == 0); /* a CMessage read as CMessageExt, as Apache allows */
  CHECK(DestroyMessage(m) == OK && DestroyMessage(m) == NULL_POINTER && GetOriginMessageTopic(m) == NULL);
  CHECK(SetMessageBody(m, "x") == NULL_POINTER && GetOriginDelayTimeLevel(m) == -1);
  CBatchMessage* b = CreateBatchMessage();
  CHECK(AddMessage(b, m) == NULL_POINTER && DestroyBatchMessage(b) == OK && DestroyBatchMessage(b) == NULL_POINTER);
  CPushConsumer* c = CreatePushConsumer("CG_dead");
  CHECK(strcmp(GetPushConsumerGroupID(c), "CG_dead") == 0 && DestroyPushConsumer(c) == OK);
  CHECK(DestroyPushConsumer(c) == NULL_POINTER && Subscribe(c, "T", "*") == NULL_POINTER && GetPushConsumerGroupID(c) == NULL);
  CPullConsumer* pc = CreatePullConsumer("CG_dead_pull");
  CHECK(DestroyPullConsumer(pc) == OK && DestroyPullConsumer(pc) == NULL_POINTER);
  CHECK(Pull(pc, NULL, "*", 0, 1).pullStatus == E_BROKER_TIMEOUT);
  /* Bad arguments on live handles. */
  c = CreatePushConsumer("CG_args");
  CHECK(SetPushConsumerThreadCount(c, 0) == NULL_POINTER && SetPushConsumerMessageBatchMaxSize(c, 0) == NULL_POINTER);
  CHECK(SetPushConsumerMessageModel(c, 7) == NULL_POINTER && SetPushConsumerMaxCacheMessageSize(c, -1) == NULL_POINTER);
  CHECK(SetPushConsumerMaxCacheMessageSizeInMb(c, 64) == OK && Subscribe(c, "T", NULL) == NULL_POINTER);
  CHECK(StartPushConsumer(c) == PUSHCONSUMER_START_FAILED); /* no subscription, no callback */
  CHECK(DestroyPushConsumer(c) == OK);
  m = CreateMessage("T");
  CHECK(SetByteMessageBody(m, "abc", -1) == NULL_POINTER && SetDelayTimeLevel(m, -2) == NULL_POINTER);
  p = CreateProducer("PG_args");
  CSendResult r;
  CHECK(SendMessageSync(p, m, &r) == PRODUCER_SEND_SYNC_FAILED); /* not started */
  CHECK(SendMessageSync(p, m, NULL) == NULL_POINTER && SendMessageAsync(p, m, NULL, NULL) == NULL_POINTER);
  CHECK(SetProducerSendMsgTimeout(p, 0) == PRODUCER_START_FAILED && SetProducerCompressLevel(p, 10) == PRODUCER_START_FAILED);
  CHECK(DestroyProducer(p) == OK && DestroyMessage(m) == OK);
}

static CPushConsumer* consumer(const char* ns, const char* topic, const char* group) {
  CPushConsumer* c = CreatePushConsumer(group);
  SetPushConsumerNameServerAddress(c, ns);
  SetPushConsumerThreadCount(c, 2);
  Subscribe(c, topic, "*");
  RegisterMessageCallback(c, on_message);
  return c;
}

static CProducer* producer(const char* ns, const char* group) {
  CProducer* p = CreateProducer(group);
  SetProducerNameServerAddress(p, ns);
  SetProducerSendMsgTimeout(p, 5000);
  return p;
}

static int send_tagged(CProducer* p, const char* topic, const char* round) {
  CMessage* m = CreateMessage(topic);
  SetMessageBody(m, round);
  SetMessageProperty(m, "round", round);
  CSendResult r;
  int st = SendMessageSync(p, m, &r);
  DestroyMessage(m);
  return st;
}

static int send_round(CProducer* p, const char* topic, int i) {
  char round[16];
  snprintf(round, sizeof round, "%d", i);
  return send_tagged(p, topic, round);
}

static void round_trips(const char* ns, const char* topic, const char* group, int rounds) {
  CProducer* p = producer(ns, "PG_rounds");
  CHECK(StartProducer(p) == OK);
  CPushConsumer* c = consumer(ns, topic, group);
  CHECK(StartPushConsumer(c) == OK);
  /* Until the consumer has its queues: send warm-up messages (round -1) until one comes back. */
  time_t end = time(NULL) + 60;
  int warm = 0;
  while (!warm && time(NULL) < end) {
    send_round(p, topic, -1);
    pthread_mutex_lock(&lock);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += 1;
    pthread_cond_timedwait(&cond, &lock, &ts);
    warm = received > 0;
    pthread_mutex_unlock(&lock);
  }
  CHECK(warm);
  int ok = 0;
  for (int i = 0; i < rounds && warm; i++) {
    if (send_round(p, topic, i) != OK) break;
    pthread_mutex_lock(&lock);
    end = time(NULL) + 30;
    while (last_seen != i && time(NULL) < end) {
      struct timespec ts;
      clock_gettime(CLOCK_REALTIME, &ts);
      ts.tv_sec += 1;
      pthread_cond_timedwait(&cond, &lock, &ts);
    }
    ok += last_seen == i;
    pthread_mutex_unlock(&lock);
    if (last_seen != i) break;
  }
  printf("round trips %d of %d\n", ok, rounds);
  CHECK(ok == rounds);
  CHECK(send_tagged(p, topic, "self") == OK);
  pthread_mutex_lock(&lock);
  end = time(NULL) + 30;
  while (self_destroy < 0 && time(NULL) < end) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += 1;
    pthread_cond_timedwait(&cond, &lock, &ts);
  }
  CHECK(self_stop == PUSHCONSUMER_START_FAILED && self_destroy == PUSHCONSUMER_START_FAILED);
  pthread_mutex_unlock(&lock);
  /* Wrong order: destroy the running consumer and producer without shutting them down. */
  CHECK(DestroyPushConsumer(c) == OK && DestroyProducer(p) == OK);
}

static void wrong_orders(const char* ns, const char* topic, const char* group) {
  CProducer* p = producer(ns, "PG_orders");
  CHECK(ShutdownProducer(p) == OK);                      /* before start */
  CHECK(StartProducer(p) == OK && StartProducer(p) == OK); /* twice */
  CHECK(ShutdownProducer(p) == OK && ShutdownProducer(p) == OK);
  CHECK(StartProducer(p) == OK); /* again after shutdown */
  CHECK(send_round(p, topic, -2) == OK);
  /* Async sends in flight, then destroy without shutdown: queued sends finish first. */
  int queued = 0;
  for (int i = 0; i < 50; i++) {
    CMessage* m = CreateMessage(topic);
    SetMessageBody(m, "in flight");
    queued += SendMessageAsync(p, m, on_ok, on_fail) == OK;
    DestroyMessage(m);
  }
  CHECK(queued == 50);
  CHECK(DestroyProducer(p) == OK);
  pthread_mutex_lock(&lock);
  CHECK(async_done == queued); /* every queued send called back before destroy returned */
  pthread_mutex_unlock(&lock);
  CHECK(ShutdownProducer(p) == NULL_POINTER && DestroyProducer(p) == NULL_POINTER);
  /* Selector and oneway sends. */
  p = producer(ns, "PG_orders2");
  CHECK(StartProducer(p) == OK);
  CMessage* m = CreateMessage(topic);
  SetMessageBody(m, "oneway");
  CHECK(SendMessageOnewayOrderly(p, m, pick_first, NULL) == OK);
  CHECK(SendMessageOrderlyAsync(p, m, pick_first, NULL, on_ok, on_fail) == OK);
  CHECK(DestroyMessage(m) == OK);
  /* An async send that fails on the producer's thread (empty body): the exception callback
   * reads CMQException.h's layout. */
  m = CreateMessage(topic);
  CHECK(SendMessageAsync(p, m, on_ok, on_fail_record) == OK);
  CHECK(DestroyMessage(m) == OK);
  pthread_mutex_lock(&lock);
  time_t end = time(NULL) + 30;
  while (fail_seen == 0 && time(NULL) < end) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += 1;
    pthread_cond_timedwait(&cond, &lock, &ts);
  }
  CHECK(fail_seen == 1 && strstr(fail_msg, "body") != NULL && strcmp(fail_type, "MQClientException") == 0);
  pthread_mutex_unlock(&lock);
  CHECK(ShutdownProducer(p) == OK && DestroyProducer(p) == OK);
  /* Push consumer: shutdown twice, start again, destroy while running. */
  CPushConsumer* c = consumer(ns, topic, group);
  CHECK(ShutdownPushConsumer(c) == OK && StartPushConsumer(c) == OK && StartPushConsumer(c) == OK);
  CHECK(ShutdownPushConsumer(c) == OK && ShutdownPushConsumer(c) == OK && StartPushConsumer(c) == OK);
  CHECK(UnregisterMessageCallback(c) == OK && RegisterMessageCallback(c, on_message) == OK);
  CHECK(DestroyPushConsumer(c) == OK && ShutdownPushConsumer(c) == NULL_POINTER);
  /* Pull consumer: results and queue arrays released twice. */
  CPullConsumer* pc = CreatePullConsumer("CG_orders_pull");
  SetPullConsumerNameServerAddress(pc, ns);
  CHECK(StartPullConsumer(pc) == OK);
  CMessageQueue* mqs = NULL;
  int n = 0;
  CHECK(FetchSubscriptionMessageQueues(pc, topic, &mqs, &n) == OK && n > 0);
  int found = 0;
  for (int q = 0; q < n && !found; q++) {
    CPullResult r = Pull(pc, &mqs[q], "*", 0, 4);
    if (r.pullStatus == E_FOUND) {
      found = 1;
      CHECK(r.size > 0 && GetMessageBody(r.msgFoundList[0]) != NULL);
      CMessageExt* first = r.msgFoundList[0];
      CHECK(ReleasePullResult(r) == OK && ReleasePullResult(r) == NULL_POINTER);
      CHECK(GetMessageBody(first) == NULL && GetMessageQueueOffset(first) == NULL_POINTER); /* released */
    } else {
      ReleasePullResult(r);
    }
  }
  CHECK(found);
  CHECK(ReleaseSubscriptionMessageQueue(mqs) == OK && ReleaseSubscriptionMessageQueue(mqs) == NULL_POINTER);
  CHECK(DestroyPullConsumer(pc) == OK);
}

static void start_shutdown_loop(const char* ns, const char* topic, const char* group, int loops) {
  int ok = 0;
  for (int i = 0; i < loops; i++) {
    CProducer* p = producer(ns, "PG_loop");
    CPushConsumer* c = consumer(ns, topic, group);
    CPullConsumer* pc = CreatePullConsumer("CG_loop_pull");
    SetPullConsumerNameServerAddress(pc, ns);
    int st = StartProducer(p) | StartPushConsumer(c) | StartPullConsumer(pc);
    st |= send_round(p, topic, -3);
    st |= ShutdownPushConsumer(c) | ShutdownProducer(p) | ShutdownPullConsumer(pc);
    st |= DestroyPushConsumer(c) | DestroyProducer(p) | DestroyPullConsumer(pc);
    ok += st == OK;
  }
  printf("start/shutdown loops %d of %d\n", ok, loops);
  CHECK(ok == loops);
}

int main(int argc, char** argv) {
  if (argc != 6) {
    fprintf(stderr, "usage: lifecycle NAMESRV TOPIC GROUP ROUNDS LOOPS\n");
    return 2;
  }
  layouts();
  null_handles();
  destroyed_handles();
  round_trips(argv[1], argv[2], argv[3], atoi(argv[4]));
  wrong_orders(argv[1], argv[2], argv[3]);
  start_shutdown_loop(argv[1], argv[2], argv[3], atoi(argv[5]));
  printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
