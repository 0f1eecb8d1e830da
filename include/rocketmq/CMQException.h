/* rmq librocketmq: what an async send's exception callback receives (by value). */
#ifndef RMQ_COMPAT_C_MQ_EXCEPTION_H
#define RMQ_COMPAT_C_MQ_EXCEPTION_H

#include "CCommon.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MAX_EXEPTION_MSG_LENGTH 512
#define MAX_EXEPTION_FILE_LENGTH 256
#define MAX_EXEPTION_TYPE_LENGTH 128

typedef struct _CMQException_ {
  int error;                            /* the broker's response code, or -1 */
  int line;                             /* 0 */
  char file[MAX_EXEPTION_FILE_LENGTH];  /* "librocketmq (rmq)" */
  char msg[MAX_EXEPTION_MSG_LENGTH];    /* why the send failed (at most 255 bytes here) */
  char type[MAX_EXEPTION_TYPE_LENGTH];  /* "MQClientException" */
} CMQException;

#ifdef __cplusplus
}
#endif
#endif /* RMQ_COMPAT_C_MQ_EXCEPTION_H */
