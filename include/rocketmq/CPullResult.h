/* rmq librocketmq: the result of Pull (CPullConsumer.h), returned by value. */
#ifndef RMQ_COMPAT_C_PULL_RESULT_H
#define RMQ_COMPAT_C_PULL_RESULT_H

#include "CCommon.h"
#include "CMessageExt.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum E_CPullStatus {
  E_FOUND,          /* msgFoundList holds `size` messages */
  E_NO_NEW_MSG,     /* nothing at this offset yet */
  E_NO_MATCHED_MSG, /* messages there, none matching the expression */
  E_OFFSET_ILLEGAL, /* offset outside the queue: continue at nextBeginOffset */
  E_BROKER_TIMEOUT  /* the pull failed: GetLatestErrorMessage() says why */
} CPullStatus;

typedef struct _CPullResult_ {
  CPullStatus pullStatus;
  long long nextBeginOffset;
  long long minOffset;
  long long maxOffset;
  CMessageExt** msgFoundList; /* valid until ReleasePullResult */
  int size;
  void* pData;                /* the library's; NULL when there is nothing to release */
} CPullResult;

#ifdef __cplusplus
}
#endif
#endif /* RMQ_COMPAT_C_PULL_RESULT_H */
