/*
 * rmq librocketmq: messages the program builds and sends. The caller owns a CMessage
 * (CreateMessage ... DestroyMessage). Every send copies what it needs, so a message may be
 * changed, reused or destroyed as soon as the send call returns. Strings are NUL-terminated
 * UTF-8. Setters return OK, or NULL_POINTER for a NULL/destroyed message or a bad argument.
 */
#ifndef RMQ_COMPAT_C_MESSAGE_H
#define RMQ_COMPAT_C_MESSAGE_H

#include "CCommon.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct CMessage CMessage;

/* A message for `topic` (NULL: set it later with SetMessageTopic). */
ROCKETMQCLIENT_API CMessage* CreateMessage(const char* topic);
ROCKETMQCLIENT_API int DestroyMessage(CMessage* msg);
ROCKETMQCLIENT_API int SetMessageTopic(CMessage* msg, const char* topic);
/* One tag; consumers subscribe with tag expressions ("TagA || TagB"). */
ROCKETMQCLIENT_API int SetMessageTags(CMessage* msg, const char* tags);
/* Space-separated keys, indexed by the broker. */
ROCKETMQCLIENT_API int SetMessageKeys(CMessage* msg, const char* keys);
/* Body from a NUL-terminated string (the NUL is not sent). */
ROCKETMQCLIENT_API int SetMessageBody(CMessage* msg, const char* body);
/* Body from `len` bytes of any value (at most 16 MiB here). */
ROCKETMQCLIENT_API int SetByteMessageBody(CMessage* msg, const char* body, int len);
ROCKETMQCLIENT_API int SetMessageProperty(CMessage* msg, const char* key, const char* value);
/* Delay level: 1..18 with the broker's default "1s 5s 10s 30s 1m 2m ... 2h"; 0 for none. */
ROCKETMQCLIENT_API int SetDelayTimeLevel(CMessage* msg, int level);

/* Getters (2.x). Strings are "" for absent fields, NULL for a NULL/destroyed message, and stay
 * valid until the message is changed or destroyed. */
ROCKETMQCLIENT_API const char* GetOriginMessageTopic(CMessage* msg);
ROCKETMQCLIENT_API const char* GetOriginMessageTags(CMessage* msg);
ROCKETMQCLIENT_API const char* GetOriginMessageKeys(CMessage* msg);
ROCKETMQCLIENT_API const char* GetOriginMessageBody(CMessage* msg);
ROCKETMQCLIENT_API const char* GetOriginMessageProperty(CMessage* msg, const char* key);
/* -1 for a NULL/destroyed message. */
ROCKETMQCLIENT_API int GetOriginDelayTimeLevel(CMessage* msg);

#ifdef __cplusplus
}
#endif
#endif /* RMQ_COMPAT_C_MESSAGE_H */
