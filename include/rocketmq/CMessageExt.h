/*
 * rmq librocketmq: received messages, read-only and owned by the library. One passed to a
 * MessageCallBack or a transaction checker is valid until the callback returns; one in a
 * CPullResult until ReleasePullResult. After that its handle is dead: string getters return
 * NULL and number getters NULL_POINTER (1), as for a NULL handle. Strings returned live as
 * long as the message; absent fields are "". The getters also read a CMessage* (for instance
 * the one a queue selector receives): store fields then read 0.
 */
#ifndef RMQ_COMPAT_C_MESSAGE_EXT_H
#define RMQ_COMPAT_C_MESSAGE_EXT_H

#include "CCommon.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct CMessageExt CMessageExt;

ROCKETMQCLIENT_API const char* GetMessageTopic(CMessageExt* msgExt);
ROCKETMQCLIENT_API const char* GetMessageTags(CMessageExt* msgExt);
ROCKETMQCLIENT_API const char* GetMessageKeys(CMessageExt* msgExt);
/* The body followed by a NUL. */
ROCKETMQCLIENT_API const char* GetMessageBody(CMessageExt* msgExt);
/* User properties and system ones ("UNIQ_KEY", "MIN_OFFSET", ...). */
ROCKETMQCLIENT_API const char* GetMessageProperty(CMessageExt* msgExt, const char* key);
/* The producer's unique id, else the broker's offset message id. */
ROCKETMQCLIENT_API const char* GetMessageId(CMessageExt* msgExt);
ROCKETMQCLIENT_API int GetMessageDelayTimeLevel(CMessageExt* msgExt);
ROCKETMQCLIENT_API int GetMessageQueueId(CMessageExt* msgExt);
ROCKETMQCLIENT_API int GetMessageReconsumeTimes(CMessageExt* msgExt);
ROCKETMQCLIENT_API int GetMessageStoreSize(CMessageExt* msgExt);
/* Milliseconds since the epoch. */
ROCKETMQCLIENT_API long long GetMessageBornTimestamp(CMessageExt* msgExt);
ROCKETMQCLIENT_API long long GetMessageStoreTimestamp(CMessageExt* msgExt);
ROCKETMQCLIENT_API long long GetMessageQueueOffset(CMessageExt* msgExt);
ROCKETMQCLIENT_API long long GetMessageCommitLogOffset(CMessageExt* msgExt);
ROCKETMQCLIENT_API long long GetMessagePreparedTransactionOffset(CMessageExt* msgExt);

#ifdef __cplusplus
}
#endif
#endif /* RMQ_COMPAT_C_MESSAGE_EXT_H */
