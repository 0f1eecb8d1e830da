/* A transaction producer written against Apache's 2.x C API (CProducer.h,
 * CTransactionStatus.h). For i in 0..COUNT it sends "commit-<i>", "rollback-<i>" and
 * "unknown-<i>": the executor answers by prefix, and the checker resolves each unknown one
 * (commit for even i, rollback for odd i) when the broker asks.
 *
 * usage: transaction_producer NAMESRV TOPIC COUNT TIMEOUT_S
 * Prints "checked <body>" per check and "sent <n>"; exits 0 once every unknown was checked. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "CErrorMessage.h"
#include "CProducer.h"

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int checked_unknown = 0, bad_checks = 0, executed = 0;
static char checked[1000][32];

static CTransactionStatus executor(CProducer* p, CMessage* msg, void* data) {
  (void)p;
  const char* body = GetOriginMessageBody(msg);
  pthread_mutex_lock(&lock);
  if (data == (void*)&lock) executed++;
  pthread_mutex_unlock(&lock);
  if (strncmp(body, "commit", 6) == 0) return E_COMMIT_TRANSACTION;
  if (strncmp(body, "rollback", 8) == 0) return E_ROLLBACK_TRANSACTION;
  return E_UNKNOWN_TRANSACTION;
}

static CTransactionStatus checker(CProducer* p, CMessageExt* msg, void* data) {
  (void)p;
  const char* body = GetMessageBody(msg);
  int i = -1;
  pthread_mutex_lock(&lock);
  if (data != (void*)checked || strncmp(body, "unknown-", 8) != 0) {
    bad_checks++;
  } else {
    int dup = 0;
    for (int k = 0; k < checked_unknown; k++) dup |= strcmp(checked[k], body) == 0;
    if (!dup && checked_unknown < 1000) {
      snprintf(checked[checked_unknown], sizeof checked[0], "%s", body);
      checked_unknown++;
    }
    i = atoi(body + 8);
  }
  printf("checked %s\n", body);
  fflush(stdout);
  pthread_mutex_unlock(&lock);
  return i >= 0 && i % 2 == 0 ? E_COMMIT_TRANSACTION : E_ROLLBACK_TRANSACTION;
}

int main(int argc, char** argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: transaction_producer NAMESRV TOPIC COUNT TIMEOUT_S\n");
    return 2;
  }
  int count = atoi(argv[3]);
  time_t end = time(NULL) + atoi(argv[4]);
  CProducer* p = CreateTransactionProducer("PG_compat_txn_c", checker, checked);
  SetProducerNameServerAddress(p, argv[1]);
  if (StartProducer(p) != OK) {
    fprintf(stderr, "start failed: %s\n", GetLatestErrorMessage());
    return 1;
  }
  int sent = 0;
  const char* kinds[] = {"commit", "rollback", "unknown"};
  for (int i = 0; i < count; i++) {
    for (int k = 0; k < 3; k++) {
      char body[32];
      snprintf(body, sizeof body, "%s-%d", kinds[k], i);
      CMessage* m = CreateMessage(argv[2]);
      SetMessageBody(m, body);
      CSendResult r;
      if (SendMessageTransaction(p, m, executor, &lock, &r) == OK && r.sendStatus == E_SEND_OK) {
        sent++;
      } else {
        fprintf(stderr, "transaction send failed: %s\n", GetLatestErrorMessage());
      }
      DestroyMessage(m);
    }
  }
  int done = 0;
  while (time(NULL) < end) {
    pthread_mutex_lock(&lock);
    done = checked_unknown;
    pthread_mutex_unlock(&lock);
    if (done >= count) break;
    sleep_ms(50);
  }
  /* A wrong SendMessageTransaction use: a plain producer refuses it. */
  CProducer* plain = CreateProducer("PG_compat_plain_c");
  CMessage* m = CreateMessage(argv[2]);
  CSendResult r;
  int refused = SendMessageTransaction(plain, m, executor, NULL, &r) == PRODUCER_SEND_TRANSACTION_FAILED;
  DestroyMessage(m);
  DestroyProducer(plain);
  ShutdownProducer(p);
  DestroyProducer(p);
  printf("sent %d executed %d checked %d bad %d refused %d\n", sent, executed, done, bad_checks, refused);
  return sent == 3 * count && executed == sent && done >= count && bad_checks == 0 && refused ? 0 : 1;
}
