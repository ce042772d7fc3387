# Build rules; ./build.sh is the entry point (it installs dependencies first).
# Outputs go to build/. Modules that do not start Mono are also built with
# AddressSanitizer + UBSan (build/asan/) and as libFuzzer harnesses (build/fuzz/).

CC       ?= gcc
CLANG    ?= clang
B        := build
WARN     := -Wall -Wextra -Werror
GLIB_CFLAGS := $(shell pkg-config --cflags glib-2.0)
GLIB_LIBS   := $(shell pkg-config --libs glib-2.0)
MONO_CFLAGS := $(shell pkg-config --cflags mono-2 2>/dev/null)
MONO_LIBS   := $(shell pkg-config --libs mono-2 2>/dev/null)
# sd_notify for the supervisor (Type=notify); only scgi-mono-server links it.
SYSTEMD_LIBS := $(shell pkg-config --libs libsystemd 2>/dev/null)
LLHTTP_DIR  := /usr/share/llhttp
LLHTTP_INC  := /usr/share/include/llhttp
# llhttp.c holds two parsers; the strict one checks the CRLF after chunk data and
# after every CR, and refuses raw non-ASCII bytes in the request target (the
# lenient one skips those checks: a request-smuggling vector behind a proxy).
LLHTTP_DEFS := -DLLHTTP_STRICT_MODE=1
CFLAGS   := -std=gnu11 -O2 -g $(WARN) -D_GNU_SOURCE -Inative -I$(LLHTTP_INC) $(LLHTTP_DEFS) $(GLIB_CFLAGS)
# Extra flags for the server's objects and links (debian/rules passes
# dpkg-buildflags' hardening flags here; the tests' builds do not take them).
EXTRA_CFLAGS  ?=
EXTRA_LDFLAGS ?=
SAN      := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer

# The config module: the model, the value grammars, the file, the command line.
CONFIG_SRCS := native/config.c native/config_spec.c native/config_file.c native/config_cli.c
# Modules that never touch Mono: unit-tested, sanitized and fuzzed.
PURE_SRCS := native/scgi_parse.c $(CONFIG_SRCS) native/http_req.c native/urlpath.c native/resp_head.c
# Modules of the server proper.
HOST_SRCS := native/listener.c native/conn.c native/request.c native/body.c native/pool.c native/response.c native/outq.c \
             native/route.c native/monohost.c native/log.c native/tmpdir.c native/stats.c native/slowlog.c native/accesslog.c native/warmup.c native/worker.c native/proc.c
# The supervisor (build/scgi-mono-server): compiled and linked without Mono's
# flags and libraries, so the build itself shows it never starts Mono.
SUP_SRCS  := native/main.c native/supervisor.c native/stats.c $(CONFIG_SRCS) native/listener.c native/log.c \
             native/appwatch.c native/notify.c native/confcheck.c native/privs.c native/status_model.c \
             native/status_http.c
# native/status_page.html is compiled in (build/gen/status_page.c).
SUP_OBJS  := $(SUP_SRCS:native/%.c=$(B)/supobj/%.o) $(B)/supobj/status_page.o
# The whole request path without Mono (event loop, workers, bodies, routing,
# responses): fuzzed by tests/fuzz/fuzz_request_path.c.
PATH_SRCS := native/scgi_parse.c $(CONFIG_SRCS) native/http_req.c native/urlpath.c native/listener.c native/conn.c \
             native/request.c native/body.c native/pool.c native/response.c native/resp_head.c native/outq.c native/route.c

PURE_OBJS := $(PURE_SRCS:native/%.c=$(B)/obj/%.o)
HOST_OBJS := $(HOST_SRCS:native/%.c=$(B)/obj/%.o)
LLHTTP_NAMES := llhttp api http
LLHTTP_OBJS := $(LLHTTP_NAMES:%=$(B)/obj/llhttp/%.o)
LLHTTP_SANOBJS := $(LLHTTP_NAMES:%=$(B)/sanobj/llhttp/%.o)
LLHTTP_FUZZOBJS := $(LLHTTP_NAMES:%=$(B)/fuzzobj/llhttp/%.o)

UNIT_TESTS := test_scgi_parse test_pool test_config test_http_req test_urlpath test_route test_resp_head test_log test_tmpdir test_outq test_stats test_appwatch test_warmup test_accesslog test_confcheck test_status_model test_status_http
FUZZERS    := fuzz_scgi_parse fuzz_http_req fuzz_urlpath fuzz_request_path fuzz_response fuzz_log fuzz_appwatch fuzz_warmup fuzz_accesslog fuzz_confcheck fuzz_status_model fuzz_status_http

.PHONY: all server managed tests asan fuzz replay samples clean install uninstall FORCE
.SECONDARY: $(LLHTTP_OBJS) $(LLHTTP_SANOBJS) $(LLHTTP_FUZZOBJS)
all: server managed tests asan samples

server: $(B)/scgi-mono-server $(B)/scgi-mono-worker $(B)/ScgiMono.dll
managed: $(B)/ScgiMono.dll $(B)/ScgiMono.Tests.dll
tests: $(UNIT_TESTS:%=$(B)/tests/%) samples
# Sample applications that need building (the integration tests serve them).
samples: $(B)/samples/mvc/bin/MvcSample.dll
asan: $(UNIT_TESTS:%=$(B)/asan/%) $(FUZZERS:%=$(B)/asan/%-replay)
fuzz: $(FUZZERS:%=$(B)/fuzz/%)

$(B)/obj/%.o: native/%.c native/*.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(EXTRA_CFLAGS) $(MONO_CFLAGS) -c -o $@ $<

# llhttp ships as C sources in Debian's node-llhttp; it is not our code, so it is
# built without -Werror.
$(B)/obj/llhttp/%.o: $(LLHTTP_DIR)/%.c Makefile
	@mkdir -p $(dir $@)
	$(CC) -O2 -g -w $(EXTRA_CFLAGS) $(LLHTTP_DEFS) -I$(LLHTTP_INC) -c -o $@ $<

$(B)/sanobj/llhttp/%.o: $(LLHTTP_DIR)/%.c Makefile
	@mkdir -p $(dir $@)
	$(CLANG) -O1 -g -w $(LLHTTP_DEFS) $(SAN) -I$(LLHTTP_INC) -c -o $@ $<

$(B)/fuzzobj/llhttp/%.o: $(LLHTTP_DIR)/%.c Makefile
	@mkdir -p $(dir $@)
	$(CLANG) -O1 -g -w $(LLHTTP_DEFS) $(SAN) -fsanitize=fuzzer-no-link -I$(LLHTTP_INC) -c -o $@ $<

$(B)/supobj/%.o: native/%.c native/*.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(EXTRA_CFLAGS) -c -o $@ $<

# The supervisor finds an installed worker in LIBDIR (see "install" below):
# its object (and the installed configuration and units) are rebuilt when the
# installation paths change.
$(B)/supobj/supervisor.o: CFLAGS += -DSCGI_MONO_LIBDIR='"$(LIBDIR)"' -DSCGI_MONO_LIBDIR_REL='"$(LIBDIR_REL)"'
$(B)/supobj/supervisor.o: $(B)/gen/paths.stamp
$(B)/gen/paths.stamp: FORCE
	@mkdir -p $(dir $@)
	@echo '$(PREFIX) $(LIBDIR) $(LIBDIR_REL)' | cmp -s - $@ || echo '$(PREFIX) $(LIBDIR) $(LIBDIR_REL)' > $@

$(B)/gen/status_page.c: native/status_page.html native/embed.sh
	@mkdir -p $(dir $@)
	sh native/embed.sh status_page_html $< > $@.tmp && mv $@.tmp $@

$(B)/supobj/status_page.o: $(B)/gen/status_page.c native/status_page.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

# The status listener opens its socket with listener.c (and its specs come
# from the config module).
STATUS_HTTP_SRCS := native/status_http.c native/listener.c $(CONFIG_SRCS)
$(B)/tests/test_status_http: tests/test_status_http.c $(STATUS_HTTP_SRCS) native/*.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(STATUS_HTTP_SRCS) $(GLIB_LIBS)

$(B)/asan/test_status_http: tests/test_status_http.c $(STATUS_HTTP_SRCS) native/*.h
	@mkdir -p $(dir $@)
	$(CLANG) $(CFLAGS) $(SAN) -o $@ $< $(STATUS_HTTP_SRCS) $(GLIB_LIBS)

$(B)/asan/fuzz_status_http-replay: tests/fuzz/fuzz_status_http.c tests/fuzz/replay_main.c $(STATUS_HTTP_SRCS) native/*.h tests/fuzz/*.h
	@mkdir -p $(dir $@)
	$(CLANG) $(CFLAGS) $(SAN) -o $@ $< tests/fuzz/replay_main.c $(STATUS_HTTP_SRCS) $(GLIB_LIBS)

$(B)/fuzz/fuzz_status_http: tests/fuzz/fuzz_status_http.c $(STATUS_HTTP_SRCS) native/*.h tests/fuzz/*.h
	@mkdir -p $(dir $@)
	$(CLANG) $(CFLAGS) $(SAN) -fsanitize=fuzzer -o $@ $< $(STATUS_HTTP_SRCS) $(GLIB_LIBS)

$(B)/scgi-mono-server: $(SUP_OBJS)
	$(CC) $(EXTRA_LDFLAGS) -o $@ $^ $(GLIB_LIBS) $(SYSTEMD_LIBS)

$(B)/scgi-mono-worker: $(PURE_OBJS) $(HOST_OBJS) $(LLHTTP_OBJS)
	$(CC) $(EXTRA_LDFLAGS) -o $@ $^ $(MONO_LIBS) $(GLIB_LIBS) -lpthread

# The request-path harness links every Mono-free module (explicit rules win over
# the pattern rules below).
$(B)/asan/fuzz_request_path-replay: tests/fuzz/fuzz_request_path.c tests/fuzz/replay_main.c $(PATH_SRCS) native/*.h tests/fuzz/*.h $(LLHTTP_SANOBJS)
	@mkdir -p $(dir $@)
	$(CLANG) $(CFLAGS) $(SAN) -o $@ $< tests/fuzz/replay_main.c $(PATH_SRCS) $(LLHTTP_SANOBJS) $(GLIB_LIBS) -lpthread

$(B)/fuzz/fuzz_request_path: tests/fuzz/fuzz_request_path.c $(PATH_SRCS) native/*.h tests/fuzz/*.h $(LLHTTP_FUZZOBJS)
	@mkdir -p $(dir $@)
	$(CLANG) $(CFLAGS) $(SAN) -fsanitize=fuzzer -o $@ $< $(PATH_SRCS) $(LLHTTP_FUZZOBJS) $(GLIB_LIBS) -lpthread

# Response framing: the real response.c over a socketpair (it links conn.c for
# conn_var, hence the request-path modules).
$(B)/asan/fuzz_response-replay: tests/fuzz/fuzz_response.c tests/fuzz/replay_main.c $(PATH_SRCS) native/*.h tests/fuzz/*.h $(LLHTTP_SANOBJS)
	@mkdir -p $(dir $@)
	$(CLANG) $(CFLAGS) $(SAN) -o $@ $< tests/fuzz/replay_main.c $(PATH_SRCS) $(LLHTTP_SANOBJS) $(GLIB_LIBS) -lpthread

$(B)/fuzz/fuzz_response: tests/fuzz/fuzz_response.c $(PATH_SRCS) native/*.h tests/fuzz/*.h $(LLHTTP_FUZZOBJS)
	@mkdir -p $(dir $@)
	$(CLANG) $(CFLAGS) $(SAN) -fsanitize=fuzzer -o $@ $< $(PATH_SRCS) $(LLHTTP_FUZZOBJS) $(GLIB_LIBS) -lpthread

# Routing reads requests through conn.c: its test links the Mono-free modules.
$(B)/tests/test_route: tests/test_route.c $(PATH_SRCS) native/*.h $(LLHTTP_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(PATH_SRCS) $(LLHTTP_OBJS) $(GLIB_LIBS) -lpthread

$(B)/asan/test_route: tests/test_route.c $(PATH_SRCS) native/*.h $(LLHTTP_SANOBJS)
	@mkdir -p $(dir $@)
	$(CLANG) $(CFLAGS) $(SAN) -o $@ $< $(PATH_SRCS) $(LLHTTP_SANOBJS) $(GLIB_LIBS) -lpthread

# The warm-up client sends its requests through conn.c (server_adopt).
$(B)/tests/test_warmup: tests/test_warmup.c native/warmup.c $(PATH_SRCS) native/*.h $(LLHTTP_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< native/warmup.c $(PATH_SRCS) $(LLHTTP_OBJS) $(GLIB_LIBS) -lpthread

$(B)/asan/test_warmup: tests/test_warmup.c native/warmup.c $(PATH_SRCS) native/*.h $(LLHTTP_SANOBJS)
	@mkdir -p $(dir $@)
	$(CLANG) $(CFLAGS) $(SAN) -o $@ $< native/warmup.c $(PATH_SRCS) $(LLHTTP_SANOBJS) $(GLIB_LIBS) -lpthread

$(B)/asan/fuzz_warmup-replay: tests/fuzz/fuzz_warmup.c tests/fuzz/replay_main.c native/warmup.c $(PATH_SRCS) native/*.h tests/fuzz/*.h $(LLHTTP_SANOBJS)
	@mkdir -p $(dir $@)
	$(CLANG) $(CFLAGS) $(SAN) -o $@ $< tests/fuzz/replay_main.c native/warmup.c $(PATH_SRCS) $(LLHTTP_SANOBJS) $(GLIB_LIBS) -lpthread

$(B)/fuzz/fuzz_warmup: tests/fuzz/fuzz_warmup.c native/warmup.c $(PATH_SRCS) native/*.h tests/fuzz/*.h $(LLHTTP_FUZZOBJS)
	@mkdir -p $(dir $@)
	$(CLANG) $(CFLAGS) $(SAN) -fsanitize=fuzzer -o $@ $< native/warmup.c $(PATH_SRCS) $(LLHTTP_FUZZOBJS) $(GLIB_LIBS) -lpthread

# The config module is four files.
$(B)/tests/test_config: tests/test_config.c $(CONFIG_SRCS) native/*.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(CONFIG_SRCS) $(GLIB_LIBS)

$(B)/asan/test_config: tests/test_config.c $(CONFIG_SRCS) native/*.h
	@mkdir -p $(dir $@)
	$(CLANG) $(CFLAGS) $(SAN) -o $@ $< $(CONFIG_SRCS) $(GLIB_LIBS)

# The configuration check reads config_spec's app_spec (through config.h).
$(B)/tests/test_confcheck: tests/test_confcheck.c native/confcheck.c native/privs.c $(CONFIG_SRCS) native/*.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< native/confcheck.c native/privs.c $(CONFIG_SRCS) $(GLIB_LIBS)

$(B)/asan/test_confcheck: tests/test_confcheck.c native/confcheck.c native/privs.c $(CONFIG_SRCS) native/*.h
	@mkdir -p $(dir $@)
	$(CLANG) $(CFLAGS) $(SAN) -o $@ $< native/confcheck.c native/privs.c $(CONFIG_SRCS) $(GLIB_LIBS)

$(B)/asan/fuzz_confcheck-replay: tests/fuzz/fuzz_confcheck.c tests/fuzz/replay_main.c native/confcheck.c native/privs.c native/*.h tests/fuzz/*.h
	@mkdir -p $(dir $@)
	$(CLANG) $(CFLAGS) $(SAN) -o $@ $< tests/fuzz/replay_main.c native/confcheck.c native/privs.c $(GLIB_LIBS)

$(B)/fuzz/fuzz_confcheck: tests/fuzz/fuzz_confcheck.c native/confcheck.c native/privs.c native/*.h tests/fuzz/*.h
	@mkdir -p $(dir $@)
	$(CLANG) $(CFLAGS) $(SAN) -fsanitize=fuzzer -o $@ $< native/confcheck.c native/privs.c $(GLIB_LIBS)

# The status model reads the workers' shared counters (stats.c).
$(B)/tests/test_status_model: tests/test_status_model.c native/status_model.c native/stats.c native/*.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< native/status_model.c native/stats.c $(GLIB_LIBS) -lm

$(B)/asan/test_status_model: tests/test_status_model.c native/status_model.c native/stats.c native/*.h
	@mkdir -p $(dir $@)
	$(CLANG) $(CFLAGS) $(SAN) -o $@ $< native/status_model.c native/stats.c $(GLIB_LIBS) -lm

$(B)/asan/fuzz_status_model-replay: tests/fuzz/fuzz_status_model.c tests/fuzz/replay_main.c native/status_model.c native/stats.c native/*.h tests/fuzz/*.h
	@mkdir -p $(dir $@)
	$(CLANG) $(CFLAGS) $(SAN) -o $@ $< tests/fuzz/replay_main.c native/status_model.c native/stats.c $(GLIB_LIBS) -lm

$(B)/fuzz/fuzz_status_model: tests/fuzz/fuzz_status_model.c native/status_model.c native/stats.c native/*.h tests/fuzz/*.h
	@mkdir -p $(dir $@)
	$(CLANG) $(CFLAGS) $(SAN) -fsanitize=fuzzer -o $@ $< native/status_model.c native/stats.c $(GLIB_LIBS) -lm

# Unit tests: tests/test_MODULE.c linked with native/MODULE.c (and llhttp).
$(B)/tests/test_%: tests/test_%.c native/%.c native/*.h $(LLHTTP_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< native/$*.c $(LLHTTP_OBJS) $(GLIB_LIBS)

$(B)/asan/test_%: tests/test_%.c native/%.c native/*.h $(LLHTTP_SANOBJS)
	@mkdir -p $(dir $@)
	$(CLANG) $(CFLAGS) $(SAN) -o $@ $< native/$*.c $(LLHTTP_SANOBJS) $(GLIB_LIBS)

# Corpus replay: the libFuzzer harness linked with a tiny main that runs each
# file given on the command line once, under ASan + UBSan (no fuzzing engine needed).
$(B)/asan/fuzz_%-replay: tests/fuzz/fuzz_%.c tests/fuzz/replay_main.c native/%.c native/*.h tests/fuzz/*.h $(LLHTTP_SANOBJS)
	@mkdir -p $(dir $@)
	$(CLANG) $(CFLAGS) $(SAN) -o $@ $< tests/fuzz/replay_main.c native/$*.c $(LLHTTP_SANOBJS) $(GLIB_LIBS)

$(B)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c native/%.c native/*.h tests/fuzz/*.h $(LLHTTP_FUZZOBJS)
	@mkdir -p $(dir $@)
	$(CLANG) $(CFLAGS) $(SAN) -fsanitize=fuzzer -o $@ $< native/$*.c $(LLHTTP_FUZZOBJS) $(GLIB_LIBS)

# The managed side, compiled with Debian's mcs. ScgiMono.dll sits next to the
# worker binary, which loads it from there (installed: $(PREFIX)/lib/scgi-mono).
MCS       := mcs -debug -unsafe -warnaserror -nologo
MANAGED_SRCS := $(wildcard managed/*.cs) $(B)/gen/RequestFlags.cs
MANAGED_TESTS := $(wildcard managed/tests/*.cs)
NUNIT_DIR := $(firstword $(wildcard /usr/lib/cli/nunit.framework-2.6*))

# The request flag bits are defined once, in native/reqflags.h.
$(B)/gen/RequestFlags.cs: native/reqflags.h managed/gen_reqflags.sh
	@mkdir -p $(dir $@)
	sh managed/gen_reqflags.sh $< > $@.tmp && mv $@.tmp $@

$(B)/ScgiMono.dll: $(MANAGED_SRCS)
	@mkdir -p $(B)
	$(MCS) -target:library -r:System.Web.dll -r:System.Configuration.dll -out:$@ $(MANAGED_SRCS)

$(B)/ScgiMono.Tests.dll: $(MANAGED_TESTS) $(B)/ScgiMono.dll
	$(MCS) -target:library -r:System.Web.dll -r:System.Configuration.dll -r:$(B)/ScgiMono.dll -r:$(NUNIT_DIR)/nunit.framework.dll -out:$@ $(MANAGED_TESTS)

# The MVC 3 + Razor sample: its files (less the C# sources) copied to
# build/samples/mvc, the controllers and Global.asax code compiled into its bin/.
# System.Web.Mvc comes from the GAC (Debian's libmono-system-web-mvc3.0-cil).
MVC_FILES := $(shell find samples/mvc -type f)
MVC_SRCS  := $(filter %.cs,$(MVC_FILES))
$(B)/samples/mvc/bin/MvcSample.dll: $(MVC_FILES)
	rm -rf $(B)/samples/mvc
	mkdir -p $(B)/samples/mvc
	tar -C samples/mvc --exclude='*.cs' -cf - . | tar -C $(B)/samples/mvc -xf -
	find $(B)/samples/mvc -type d -empty -delete
	mkdir -p $(B)/samples/mvc/bin
	$(MCS) -target:library -r:System.Web.dll -r:System.Web.Mvc.dll -out:$@ $(MVC_SRCS)

# ---- install (./build.sh install; debian/rules with PREFIX=/usr) ----
# FHS: the server is a daemon that only the administrator (or systemd) starts,
# hence sbin/ (like nginx and php-fpm); the worker is an internal program
# the server runs, hence lib/scgi-mono/, with ScgiMono.dll beside it (the
# worker loads it from its own directory). Configuration in /etc for
# PREFIX=/usr, else in $(PREFIX)/etc; systemd units in /lib/systemd/system
# for PREFIX=/usr (Debian 12), else $(PREFIX)/lib/systemd/system.
PREFIX     ?= /usr/local
DESTDIR    ?=
SBINDIR    := $(PREFIX)/sbin
LIBDIR     := $(PREFIX)/lib/scgi-mono
LIBDIR_REL := $(shell realpath -m --relative-to=$(SBINDIR) $(LIBDIR))
DATADIR    := $(PREFIX)/share/scgi-mono
MANDIR     := $(PREFIX)/share/man
ifeq ($(PREFIX),/usr)
SYSCONFDIR := /etc
UNITDIR    := /lib/systemd/system
else
SYSCONFDIR := $(PREFIX)/etc
UNITDIR    := $(PREFIX)/lib/systemd/system
endif
CONFDIR    := $(SYSCONFDIR)/scgi-mono
SAMPLE_FILES := $(shell cd samples/hello && find . -type f | LC_ALL=C sort)

# The installed configuration is scgi-mono.conf (every key documented there)
# with the sample application's installed path; the units and the logrotate
# file are the samples with the installed paths.
$(B)/install/scgi-mono.conf: scgi-mono.conf Makefile $(B)/gen/paths.stamp
	@mkdir -p $(dir $@)
	sed -e 's|^path = samples/hello$$|path = $(DATADIR)/samples/hello|' \
	    -e 's|^# Use it with:   scgi-mono-server --config scgi-mono.conf$$|# Installed as $(CONFDIR)/scgi-mono.conf: the systemd unit scgi-mono.service\n# runs $(SBINDIR)/scgi-mono-server --config $(CONFDIR)/scgi-mono.conf\n# as the system user scgi-mono (its User= and Group=: user and group in\n# [server] are left unset here). Check a change with scgi-mono-server -t\n# --config $(CONFDIR)/scgi-mono.conf, then: systemctl reload scgi-mono.\n# Serving the sample application ($(DATADIR)/samples/hello)\n# on 127.0.0.1:8000 (HTTP and SCGI): replace [app:hello] with your own.\n#|' \
	    $< > $@.tmp
	grep -q '^path = $(DATADIR)/samples/hello$$' $@.tmp
	grep -q '^# Installed as ' $@.tmp
	mv $@.tmp $@

$(B)/install/%: samples/% Makefile $(B)/gen/paths.stamp
	@mkdir -p $(dir $@)
	sed -e 's|/usr/local/sbin/|$(SBINDIR)/|g' -e 's|/etc/scgi-mono/|$(CONFDIR)/|g' $< > $@

INSTALL_GEN := $(B)/install/scgi-mono.conf $(B)/install/scgi-mono.service $(B)/install/scgi-mono.socket \
               $(B)/install/logrotate

# Files under DESTDIR: an existing configuration is never overwritten when
# installing into the live system (no DESTDIR); the new one is left beside it
# as scgi-mono.conf.new.
install: server $(INSTALL_GEN) FORCE
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(CONFDIR) $(DESTDIR)$(UNITDIR) \
	    $(DESTDIR)$(SYSCONFDIR)/logrotate.d $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(MANDIR)/man5
	install -m 755 $(B)/scgi-mono-server $(DESTDIR)$(SBINDIR)/scgi-mono-server
	install -m 755 $(B)/scgi-mono-worker $(DESTDIR)$(LIBDIR)/scgi-mono-worker
	install -m 644 $(B)/ScgiMono.dll $(DESTDIR)$(LIBDIR)/ScgiMono.dll
	if [ -z "$(DESTDIR)" ] && [ -e $(CONFDIR)/scgi-mono.conf ]; then \
	    install -m 644 $(B)/install/scgi-mono.conf $(CONFDIR)/scgi-mono.conf.new; \
	    echo "kept $(CONFDIR)/scgi-mono.conf; the new default is $(CONFDIR)/scgi-mono.conf.new"; \
	else \
	    install -m 644 $(B)/install/scgi-mono.conf $(DESTDIR)$(CONFDIR)/scgi-mono.conf; \
	fi
	install -m 644 $(B)/install/scgi-mono.service $(B)/install/scgi-mono.socket $(DESTDIR)$(UNITDIR)/
	install -m 644 $(B)/install/logrotate $(DESTDIR)$(SYSCONFDIR)/logrotate.d/scgi-mono
	install -m 644 man/scgi-mono-server.8 $(DESTDIR)$(MANDIR)/man8/scgi-mono-server.8
	install -m 644 man/scgi-mono.conf.5 $(DESTDIR)$(MANDIR)/man5/scgi-mono.conf.5
	cd samples/hello && for f in $(SAMPLE_FILES); do \
	    install -D -m 644 "$$f" "$(DESTDIR)$(DATADIR)/samples/hello/$$f" || exit 1; done

# Removes what install put there, except the configuration (yours) and the
# system user (build.sh install creates it; Debian's policy leaves it too).
uninstall: FORCE
	rm -f $(DESTDIR)$(SBINDIR)/scgi-mono-server $(DESTDIR)$(LIBDIR)/scgi-mono-worker $(DESTDIR)$(LIBDIR)/ScgiMono.dll \
	    $(DESTDIR)$(UNITDIR)/scgi-mono.service $(DESTDIR)$(UNITDIR)/scgi-mono.socket \
	    $(DESTDIR)$(SYSCONFDIR)/logrotate.d/scgi-mono $(DESTDIR)$(CONFDIR)/scgi-mono.conf.new \
	    $(DESTDIR)$(MANDIR)/man8/scgi-mono-server.8 $(DESTDIR)$(MANDIR)/man5/scgi-mono.conf.5
	rm -rf $(DESTDIR)$(DATADIR)
	-rmdir $(DESTDIR)$(LIBDIR)

FORCE:

clean:
	rm -rf $(B)
