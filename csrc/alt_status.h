/* Status codes shared by every alt_* function. Zero is success; the Python layer maps the rest to the
 * exceptions of althan_ota.errors in one place (althan_ota/_native/_status.pyx). */
#ifndef ALT_STATUS_H
#define ALT_STATUS_H

enum alt_status {
    ALT_OK = 0,
    ALT_EINVAL = -1,   /* an argument is out of its documented range */
    ALT_EAUTH = -2,    /* authentication (MIC / tag) failed */
    ALT_ENOMEM = -3,   /* allocation failed */
    ALT_ERANGE = -4,   /* a length does not fit the format (e.g. message too long for the nonce) */
    ALT_EUNSUPPORTED = -5, /* the requested tier is not built or not supported by this CPU */
    ALT_EINTR = -6,    /* a long run was asked to stop */
    ALT_STATUS_LAST = ALT_EINTR   /* the most negative status: codes run from ALT_OK down to it */
};

/* The enum constant's name ("ALT_EINVAL") and a short description of a status; NULL for an unknown code. */
const char *alt_status_name(int status);
const char *alt_status_text(int status);

#endif
