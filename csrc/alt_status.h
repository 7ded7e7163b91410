/* Status codes shared by every alt_* function. Zero is success; callers map the rest to exceptions. */
#ifndef ALT_STATUS_H
#define ALT_STATUS_H

enum alt_status {
    ALT_OK = 0,
    ALT_EINVAL = -1,   /* an argument is out of its documented range */
    ALT_EAUTH = -2,    /* authentication (MIC / tag) failed */
    ALT_ENOMEM = -3,   /* allocation failed */
    ALT_ERANGE = -4,   /* a length does not fit the format (e.g. message too long for the nonce) */
    ALT_EUNSUPPORTED = -5, /* the requested tier is not built or not supported by this CPU */
    ALT_EINTR = -6     /* a long run was asked to stop */
};

#endif
