/* rmq librocketmq: the last error of the calling thread. */
#ifndef RMQ_COMPAT_C_ERROR_MESSAGE_H
#define RMQ_COMPAT_C_ERROR_MESSAGE_H

#include "CCommon.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Why the last failing call on this thread failed ("" if none did). The string belongs to the
 * library and stays valid until the next failing call on the same thread. */
ROCKETMQCLIENT_API const char* GetLatestErrorMessage(void);

#ifdef __cplusplus
}
#endif
#endif /* RMQ_COMPAT_C_ERROR_MESSAGE_H */
