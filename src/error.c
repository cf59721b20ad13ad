/* error.c — names and descriptions of the error codes, generated from the
 * single list in pmsim/error.h. */
#include <string.h>

#include "pmsim/error.h"

const char *pm_strerror(pm_error_t err)
{
    switch (err) {
    case PM_OK:
        return "ok";
#define PM__ERR_NAME(name, text)                                                                   \
    case PM_##name:                                                                                \
        return #name;
        PM_ERRNO_MAP(PM__ERR_NAME)
#undef PM__ERR_NAME
    default:
        return "E?";
    }
}

const char *pm_error_describe(pm_error_t err)
{
    switch (err) {
    case PM_OK:
        return "success";
#define PM__ERR_TEXT(name, text)                                                                   \
    case PM_##name:                                                                                \
        return text;
        PM_ERRNO_MAP(PM__ERR_TEXT)
#undef PM__ERR_TEXT
    default:
        return "unknown error code";
    }
}

bool pm_error_parse(const char *name, pm_error_t *err)
{
    static const struct {
        const char *name;
        pm_error_t code;
    } table[] = {{"ok", PM_OK},
#define PM__ERR_ROW(name, text) {#name, PM_##name},
                 PM_ERRNO_MAP(PM__ERR_ROW)
#undef PM__ERR_ROW
    };
    if (name == NULL)
        return false;
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        if (strcmp(name, table[i].name) == 0) {
            *err = table[i].code;
            return true;
        }
    }
    return false;
}
