/* log: one line per event on standard error, with time and level.
 * Everything logs through GLib (g_message, g_warning, g_critical); log_init
 * installs the writer. Safe from any thread. */
#ifndef LOG_H
#define LOG_H

void log_init(void);

#endif
