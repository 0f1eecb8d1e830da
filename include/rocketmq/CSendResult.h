/* rmq librocketmq: the outcome of a send, written into a struct the caller owns. */
#ifndef RMQ_COMPAT_C_SEND_RESULT_H
#define RMQ_COMPAT_C_SEND_RESULT_H

#include "CCommon.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum E_CSendStatus_ {
  E_SEND_OK = 0,                  /* stored */
  E_SEND_FLUSH_DISK_TIMEOUT = 1,  /* stored, synchronous flush timed out */
  E_SEND_FLUSH_SLAVE_TIMEOUT = 2, /* stored, synchronous replication timed out */
  E_SEND_SLAVE_NOT_AVAILABLE = 3  /* stored, no slave for synchronous replication */
} CSendStatus;

typedef struct _SendResult_ {
  CSendStatus sendStatus;
  char msgId[MAX_MESSAGE_ID_LENGTH]; /* NUL-terminated; comma-separated ids for a batch */
  long long offset;                  /* queue offset (of the first message of a batch) */
} CSendResult;

#ifdef __cplusplus
}
#endif
#endif /* RMQ_COMPAT_C_SEND_RESULT_H */
