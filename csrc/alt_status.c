#include "alt_status.h"

static const struct {
    const char *name, *text;
} statuses[1 - ALT_STATUS_LAST] = {
    [-ALT_OK] = {"ALT_OK", "success"},
    [-ALT_EINVAL] = {"ALT_EINVAL", "an argument is out of its documented range"},
    [-ALT_EAUTH] = {"ALT_EAUTH", "authentication failed"},
    [-ALT_ENOMEM] = {"ALT_ENOMEM", "out of memory"},
    [-ALT_ERANGE] = {"ALT_ERANGE", "a length does not fit the format"},
    [-ALT_EUNSUPPORTED] = {"ALT_EUNSUPPORTED", "the tier is not built or not supported by this CPU"},
    [-ALT_EINTR] = {"ALT_EINTR", "stopped on request"},
};

const char *alt_status_name(int status)
{
    return status <= 0 && status >= ALT_STATUS_LAST ? statuses[-status].name : 0;
}

const char *alt_status_text(int status)
{
    return status <= 0 && status >= ALT_STATUS_LAST ? statuses[-status].text : 0;
}
