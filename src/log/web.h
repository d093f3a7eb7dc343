/*
 * The transparency page (web/: index.html, page.js, ...), embedded in the
 * log daemon at build time by cmake/embed_web.cmake, so `fairkey log serve`
 * serves it at "/" with no installed files (docs/log.md 7.8).
 */
#ifndef FAIRKEY_LOG_WEB_H
#define FAIRKEY_LOG_WEB_H

#include <stddef.h>

struct fki_web_file {
    const char *path; /* "/index.html" */
    const char *content_type;
    const unsigned char *data;
    size_t len;
};

extern const struct fki_web_file fki_web_files[];
extern const size_t fki_web_nfiles;

#endif
