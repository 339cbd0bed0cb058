/*
 * master.c -- the master process.
 *
 *	master_run		the supervision loop
 *	master_slots		the slots of a generation, by socket
 *	master_spawn		fork one worker into a slot
 *	master_reap		collect dead workers, schedule replacements
 *	master_reload		SIGHUP: new configuration, new generation
 *	master_on_ready		SIGRTMIN from a new worker: retire the old
 *				ones of its socket
 *	master_on_start		SIGRTMIN under -d: does the daemon serve yet?
 *	master_start_done	-d: the starting command has its answer
 *	master_start_failed	-d: it cannot serve; stop
 *	master_stop		no new connections; the workers drain
 *	master_signal_all	signal every worker, old generations too
 *	master_stop_listening	SIGTERM: no new connections
 *
 * The master also owns the password-hash budget (hashslots.c): one set
 * per generation of workers, removed when that generation is gone; and,
 * with cache on, the validate cache (cache.c), mapped once before the
 * first fork and kept for the life of the daemon, and the listener
 * process that keeps it true (listener.c), restarted like a worker when
 * it dies, and at every reload.  The cache is disabled whenever no
 * listener is known to listen: the listener enables it, and the master
 * disables it the moment it reaps one.
 *
 * With login_listen, a generation has two classes of workers: workers
 * on listen_fd and login_workers on login_fd, each holding only its own
 * socket; a dead worker is replaced in its class, and at a reload the old
 * workers of each socket serve until a new worker of that socket is ready.
 *
 * The master does no request work.  It keeps its signals blocked and
 * takes them with sigtimedwait(2), so there are no handlers and no races
 * between a signal and the decision to sleep.  A worker that dies soon
 * after it started is restarted after a delay that doubles each time
 * (0.1 s up to 30 s), so a worker that cannot start does not spin.
 *
 * Under -d, the command that started the daemon waits until it serves:
 * until a worker has connected to the database and prepared its
 * statements.  When every worker says it could not, or none has within
 * db_timeout + READY_MARGIN, the daemon cannot serve: the master stops
 * its workers, tells that command why, and exits 1.  (In the foreground
 * the workers answer 503 until the database is back.)
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "cache.h"
#include "hashslots.h"
#include "listener.h"
#include "log.h"
#include "master.h"
#include "worker.h"

#define MASTER_SLOTS_MAX	512	/* workers + login_workers, 256 each */
#define MASTER_OLD_MAX		1024
#define BACKOFF_MIN		0.1	/* seconds */
#define BACKOFF_MAX		30.0
#define QUICK_DEATH		2.0	/* a worker that lived less failed to start */
#define MASTER_OLD_IDS		16	/* hash budgets of retiring generations */
#define READY_MARGIN		3.0	/* seconds past db_timeout (see the top) */
#define START_FAILED_GRACE	1.0	/* for the workers to stop, then SIGKILL */

struct slot {
	pid_t	pid;		/* 0: empty */
	double	started;
	double	respawn_at;	/* when empty: when to fork again */
	int	failures;	/* quick deaths in a row */
	bool	no_db;		/* -d: a worker here could not reach the db */
	bool	login;		/* serves login_fd rather than listen_fd */
};

struct master {
	struct conf	*conf;
	const char	*conf_path;
	int		 listen_fd;
	int		 login_fd;	/* login_listen's; -1: none */
	struct slot	 slots[MASTER_SLOTS_MAX];
	int		 nslots;
	struct cache	*cache;		/* NULL: cache off since the start */
	struct slot	 listener;	/* the cache's, while cache is on */
	pid_t		 old[MASTER_OLD_MAX];	/* previous generations, retiring */
	bool		 old_login[MASTER_OLD_MAX];	/* ... of login_fd */
	int		 nold;
	bool		 old_waiting[2];	/* by class: not yet told to stop */
	int		 slots_id;		/* hash slots of the current workers */
	int		 old_ids[MASTER_OLD_IDS];	/* ... of the retiring ones */
	int		 nold_ids;
	sigset_t	 sigs;
	/* -d: the starting command waits on ready_fd (-1: it was told). */
	int		 ready_fd;
	int		 report[2];	/* workers' reasons, while ready_fd is open */
	double		 ready_deadline;
	int		 not_connected;	/* slots whose worker could not reach the db */
	char		 reason[512];	/* the first worker's */
	char		 why[768];	/* for the starting command */
};

static double
master_clock(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * The slots of a generation: workers for listen_fd, then the login
 * workers for login_fd.
 */
static void
master_slots(struct master *m)
{
	int i, login = m->login_fd != -1 ? conf_login_workers(m->conf) : 0;

	/* conf.c bounds both to 256; never past the array all the same. */
	if (m->conf->workers + login > MASTER_SLOTS_MAX)
		login = MASTER_SLOTS_MAX - m->conf->workers;
	m->nslots = m->conf->workers + login;
	for (i = 0; i < m->nslots; i++)
		m->slots[i].login = i >= m->conf->workers;
}

static void
master_spawn(struct master *m, struct slot *s)
{
	pid_t pid = fork();
	int nice_now;

	if (pid == -1) {
		log_error("master: fork: %m");
		s->respawn_at = master_clock() + 1.0;
		return;
	}
	if (pid == 0) {
		/* Only the master tells the starting command anything. */
		if (m->ready_fd != -1) {
			close(m->ready_fd);
			close(m->report[0]);
		}
		/* A worker holds the one socket it serves. */
		if (m->login_fd != -1)
			close(s->login ? m->listen_fd : m->login_fd);
		/*
		 * A login worker yields the cores to the others (login_nice):
		 * its argon2id then costs validate little even in a flood.
		 * Never below the nice value the daemon was started with.
		 */
		errno = 0;
		if (s->login && (nice_now = getpriority(PRIO_PROCESS, 0)) <
		    m->conf->login_nice && errno == 0 &&
		    setpriority(PRIO_PROCESS, 0, m->conf->login_nice) == -1)
			log_warn("worker: setpriority %d: %m", m->conf->login_nice);
		/* worker_main unblocks its signals */
		worker_main(m->conf, s->login ? m->login_fd : m->listen_fd,
		    m->ready_fd != -1 ? m->report[1] : -1,
		    m->conf->cache ? m->cache : NULL,
		    m->login_fd == -1 || s->login);
	}
	s->pid = pid;
	s->started = master_clock();
	log_debug("master: worker %ld started", (long)pid);
}

/* The cache's listener, into m->listener. */
static void
master_spawn_listener(struct master *m)
{
	struct slot *s = &m->listener;
	pid_t master = getpid(), pid = fork();

	if (pid == -1) {
		log_error("master: fork: %m");
		s->respawn_at = master_clock() + 1.0;
		return;
	}
	if (pid == 0) {
		if (m->ready_fd != -1) {
			close(m->ready_fd);
			close(m->report[0]);
			close(m->report[1]);
		}
		if (m->listen_fd != -1)
			close(m->listen_fd);
		if (m->login_fd != -1)
			close(m->login_fd);
		listener_main(m->conf, m->cache, master);
	}
	s->pid = pid;
	s->started = master_clock();
	log_debug("master: cache listener %ld started", (long)pid);
}

static int
master_live(const struct master *m)
{
	int i, n = m->nold + (m->listener.pid != 0);

	for (i = 0; i < m->nslots; i++)
		if (m->slots[i].pid != 0)
			n++;
	return n;
}

static void
master_signal_all(struct master *m, int sig)
{
	int i;

	for (i = 0; i < m->nslots; i++)
		if (m->slots[i].pid != 0)
			kill(m->slots[i].pid, sig);
	for (i = 0; i < m->nold; i++)
		kill(m->old[i], sig);
	if (m->listener.pid != 0)
		kill(m->listener.pid, sig);
}

/*
 * A process of slot s has exited with status after living lived seconds:
 * when to start the next.  One that dies soon after it started waits
 * longer each time (see the top); a clean exit (a retired worker) or a
 * long life starts the count again.
 */
static double
master_backoff(struct slot *s, int status, double lived)
{
	double delay = 0;

	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		s->failures = 0;
	} else if (lived < QUICK_DEATH) {
		delay = BACKOFF_MIN * (1 << (s->failures < 9 ? s->failures : 9));
		if (delay > BACKOFF_MAX)
			delay = BACKOFF_MAX;
		s->failures++;
	} else {
		s->failures = 0;
	}
	return delay;
}

static void
master_reap(struct master *m, bool stopping)
{
	double now = master_clock(), lived, delay;
	pid_t pid;
	int status, i;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (pid == m->listener.pid) {
			/* Nobody listens now: nothing kept can be trusted. */
			cache_disable(m->cache);
			m->listener.pid = 0;
			lived = now - m->listener.started;
			delay = master_backoff(&m->listener, status, lived);
			m->listener.respawn_at = now + delay;
			if (!stopping && !(WIFSIGNALED(status) &&
			    WTERMSIG(status) == SIGTERM))
				log_warn("master: the cache listener %ld ended "
				    "(status %d) after %.1fs; the cache is "
				    "bypassed until the next one listens, in "
				    "%.1fs", (long)pid, status, lived, delay);
			continue;
		}
		for (i = 0; i < m->nold; i++)
			if (m->old[i] == pid) {
				m->old_login[i] = m->old_login[m->nold - 1];
				m->old[i] = m->old[--m->nold];
				break;
			}
		for (i = 0; i < m->nslots; i++) {
			struct slot *s = &m->slots[i];

			if (s->pid != pid)
				continue;
			lived = now - s->started;
			s->pid = 0;
			if (stopping)
				break;
			delay = master_backoff(s, status, lived);
			if (WIFSIGNALED(status))
				log_warn("master: worker %ld killed by signal "
				    "%d after %.1fs; replacing it%s", (long)pid,
				    WTERMSIG(status), lived, delay > 0 ?
				    " after a delay" : "");
			else if (WEXITSTATUS(status) != 0)
				log_warn("master: worker %ld exited with status "
				    "%d after %.1fs; replacing it in %.1fs",
				    (long)pid, WEXITSTATUS(status), lived, delay);
			s->respawn_at = now + delay;
			break;
		}
	}
}

/*
 * SIGRTMIN: a worker is ready to take connections.  If it is one of the
 * current generation and an old one still serves, the old workers now
 * finish what they hold and exit.  (A real-time signal because those
 * queue: two workers ready at once are two signals, each with its sender.)
 */
static void
master_on_ready(struct master *m, pid_t pid)
{
	bool login;
	int i, n = 0;

	for (i = 0; i < m->nslots; i++)
		if (m->slots[i].pid == pid && pid != 0)
			break;
	if (i == m->nslots)
		return;		/* an old worker, or one already gone */
	/* Each socket keeps its old workers until a new one of its own. */
	login = m->slots[i].login;
	if (!m->old_waiting[login])
		return;
	for (i = 0; i < m->nold; i++)
		if (m->old_login[i] == login) {
			kill(m->old[i], SIGTERM);
			n++;
		}
	log_info("reload: new worker %ld ready; stopping %d old workers%s",
	    (long)pid, n, login ? " of login_listen" : "");
	m->old_waiting[login] = false;
}

/* The starting command has its answer: the workers report no more. */
static void
master_start_done(struct master *m)
{
	close(m->report[0]);
	close(m->report[1]);
	m->report[0] = m->report[1] = -1;
}

/*
 * -d: the daemon cannot serve.  why (printf-style) goes to the log now,
 * and to the starting command when the master has stopped (master_run).
 */
static void	master_start_failed(struct master *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

static void
master_start_failed(struct master *m, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(m->why, sizeof(m->why), fmt, ap);
	va_end(ap);
	log_error("master: %s", m->why);
	master_start_done(m);
}

/*
 * SIGRTMIN from a worker of the current generation while the starting
 * command waits: connected (1) makes the daemon ready; otherwise the
 * worker has written why on the report pipe.  Returns 0 when no worker
 * can serve: every one has said it could not reach the database.
 */
static int
master_on_start(struct master *m, pid_t pid, int connected)
{
	char line[512];
	ssize_t n;
	int i;

	if (m->ready_fd == -1)
		return 1;
	for (i = 0; i < m->nslots; i++)
		if (m->slots[i].pid == pid && pid != 0)
			break;
	if (i == m->nslots)
		return 1;
	if (connected) {
		log_info("master: ready: worker %ld is connected to the "
		    "database", (long)pid);
		daemon_ready(m->ready_fd);
		m->ready_fd = -1;
		master_start_done(m);
		return 1;
	}
	/* The first reason is kept; the others are most likely the same. */
	if ((n = read(m->report[0], line, sizeof(line) - 1)) > 0 &&
	    m->reason[0] == '\0') {
		line[n] = '\0';
		line[strcspn(line, "\n")] = '\0';
		snprintf(m->reason, sizeof(m->reason), "%s", line);
	}
	/* A worker restarted in the same slot is not another failure. */
	if (!m->slots[i].no_db) {
		m->slots[i].no_db = true;
		m->not_connected++;
	}
	if (m->not_connected < m->nslots)
		return 1;
	master_start_failed(m, "cannot serve: no worker could connect to the "
	    "database (%s); stopped", m->reason[0] != '\0' ? m->reason :
	    "see the log");
	return 0;
}

/* SIGHUP: load the file again; on success, a new generation of workers. */
static void
master_reload(struct master *m)
{
	struct conf fresh;
	char err[512];
	int i;

	conf_defaults(&fresh);
	if (!conf_load(&fresh, m->conf_path, err, sizeof(err))) {
		log_error("reload: %s; keeping the running configuration", err);
		conf_free(&fresh);
		return;
	}
	if ((fresh.listen == NULL) != (m->conf->listen == NULL) ||
	    (fresh.listen != NULL && strcmp(fresh.listen, m->conf->listen) != 0)) {
		log_warn("reload: a new listen takes a restart; keeping %s",
		    m->conf->listen != NULL ? m->conf->listen : "fd 0");
		free(fresh.listen);
		fresh.listen = m->conf->listen != NULL ?
		    strdup(m->conf->listen) : NULL;
	}
	if ((fresh.login_listen == NULL) != (m->conf->login_listen == NULL) ||
	    (fresh.login_listen != NULL &&
	    strcmp(fresh.login_listen, m->conf->login_listen) != 0)) {
		log_warn("reload: a new login_listen takes a restart; keeping "
		    "%s", m->conf->login_listen != NULL ?
		    m->conf->login_listen : "none");
		free(fresh.login_listen);
		fresh.login_listen = m->conf->login_listen != NULL ?
		    strdup(m->conf->login_listen) : NULL;
	}
	/* The cache was mapped at the start, with its size. */
	if (fresh.cache && m->cache == NULL) {
		log_warn("reload: turning the cache on takes a restart; it "
		    "stays off");
		fresh.cache = false;
	}
	if (m->cache != NULL && fresh.cache_entries != m->conf->cache_entries) {
		log_warn("reload: a new cache_entries takes a restart; keeping "
		    "%d", m->conf->cache_entries);
		fresh.cache_entries = m->conf->cache_entries;
	}
	/* New workers get a new budget; the retiring keep theirs until they exit. */
	if ((i = hashslots_create(conf_hash_slots(&fresh))) != -1) {
		/* Kept until every retiring worker is gone (reloads may
		 * overlap); past MASTER_OLD_IDS the oldest goes. */
		if (m->nold_ids == MASTER_OLD_IDS) {
			hashslots_destroy(m->old_ids[0]);
			memmove(m->old_ids, m->old_ids + 1,
			    sizeof(m->old_ids[0]) * (MASTER_OLD_IDS - 1));
			m->nold_ids--;
		}
		m->old_ids[m->nold_ids++] = m->slots_id;
		m->slots_id = i;
		hashslots_use(i);
	}
	/*
	 * The running workers become the old generation.  They go on serving
	 * until a worker of the new one is ready (master_on_ready), so that
	 * there is no moment without a worker taking connections, even when
	 * the new workers are slow to start or cannot start at all.
	 */
	for (i = 0; i < m->nslots; i++)
		if (m->slots[i].pid != 0 && m->nold < MASTER_OLD_MAX) {
			m->old_login[m->nold] = m->slots[i].login;
			m->old[m->nold++] = m->slots[i].pid;
			m->old_waiting[m->slots[i].login] = true;
		}
	conf_free(m->conf);
	*m->conf = fresh;
	log_set_level(m->conf->log_level);
	/*
	 * The listener starts again with the new configuration (its database
	 * may have changed); until the new one listens, the cache is
	 * bypassed.  Cache off: disabled now, and no listener.
	 */
	if (m->cache != NULL) {
		cache_disable(m->cache);
		if (m->listener.pid != 0)
			kill(m->listener.pid, SIGTERM);
		m->listener.respawn_at = 0;
		m->listener.failures = 0;
	}
	if (conf_password_exposed(m->conf))
		log_warn("reload: %s holds a database password and is readable "
		    "by others (mode %04o): chmod o-rwx it", m->conf_path,
		    m->conf->file_mode);
	memset(m->slots, 0, sizeof(m->slots));
	master_slots(m);
	m->not_connected = 0;		/* under -d, the new workers count */
	for (i = 0; i < m->nslots; i++)
		master_spawn(m, &m->slots[i]);
	log_info("reload: configuration reloaded, %d workers", m->nslots);
	if (m->login_fd != -1)
		log_info("reload: %d of them for login_listen",
		    conf_login_workers(m->conf));
}

/*
 * Stop taking connections once a stop begins.  The workers put /dev/null
 * in place of their copies when they get SIGTERM; once the master's copy
 * is closed too, a client that connects now is refused at once (the Unix
 * socket is also unlinked) instead of waiting in the backlog until the
 * last worker has gone.  An inherited socket (fd 0) is only closed: it
 * belongs to whoever made it (systemd keeps its copy and queues the next
 * connections for the next start).
 */
static void
master_stop_listening(struct master *m)
{
	if (m->login_fd != -1) {
		if (m->conf->login_listen[0] == '/' &&
		    unlink(m->conf->login_listen) == -1 && errno != ENOENT)
			log_warn("master: unlink %s: %m",
			    m->conf->login_listen);
		close(m->login_fd);
		m->login_fd = -1;
	}
	if (m->listen_fd == -1)
		return;
	if (m->conf->listen != NULL && m->conf->listen[0] == '/' &&
	    unlink(m->conf->listen) == -1 && errno != ENOENT)
		log_warn("master: unlink %s: %m", m->conf->listen);
	close(m->listen_fd);
	m->listen_fd = -1;
}

/*
 * Begin to stop: no new connections, then the workers drain.  Returns
 * the time after which the ones left are killed.
 */
static double
master_stop(struct master *m, double grace)
{
	master_stop_listening(m);
	master_signal_all(m, SIGTERM);
	return master_clock() + grace;
}

int
master_run(struct conf *conf, const char *conf_path, int listen_fd,
    int login_fd, int ready_fd)
{
	struct master m;
	struct timespec ts;
	siginfo_t info;
	double deadline = 0, now, wake;
	bool stopping = false, killed = false;
	int i, sig, rc = 0;

	memset(&m, 0, sizeof(m));
	m.conf = conf;
	m.conf_path = conf_path;
	m.listen_fd = listen_fd;
	m.login_fd = login_fd;
	master_slots(&m);
	m.ready_fd = ready_fd;
	m.report[0] = m.report[1] = -1;
	if (ready_fd != -1) {
		if (pipe2(m.report, O_CLOEXEC) == -1 ||
		    fcntl(m.report[0], F_SETFL, O_NONBLOCK) == -1) {
			log_error("master: pipe: %m");
			return 1;
		}
		m.ready_deadline = master_clock() + conf->db_timeout +
		    READY_MARGIN;
	}
	sigemptyset(&m.sigs);
	sigaddset(&m.sigs, SIGCHLD);
	sigaddset(&m.sigs, SIGTERM);
	sigaddset(&m.sigs, SIGINT);
	sigaddset(&m.sigs, SIGHUP);
	sigaddset(&m.sigs, SIGRTMIN);
	sigprocmask(SIG_BLOCK, &m.sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	if ((m.slots_id = hashslots_create(conf_hash_slots(conf))) == -1)
		return 1;
	if (conf->cache && (m.cache = cache_create(
	    (size_t)conf->cache_entries)) == NULL) {
		hashslots_destroy(m.slots_id);
		return 1;
	}
	hashslots_use(m.slots_id);
	log_info("master: starting %d workers, %d password hashes at a time",
	    m.nslots, conf_hash_slots(conf));
	for (i = 0; i < m.nslots; i++)
		master_spawn(&m, &m.slots[i]);

	for (;;) {
		master_reap(&m, stopping);
		while (m.nold == 0 && m.nold_ids > 0)
			hashslots_destroy(m.old_ids[--m.nold_ids]);
		now = master_clock();
		if (stopping) {
			if (master_live(&m) == 0)
				break;
			if (!killed && now >= deadline) {
				log_warn("master: shutdown_timeout reached; "
				    "killing %d workers", master_live(&m));
				master_signal_all(&m, SIGKILL);
				killed = true;
			}
			wake = killed ? now + 1.0 : deadline;
		} else if (m.ready_fd != -1 && m.report[0] != -1 &&
		    now >= m.ready_deadline) {
			master_start_failed(&m, "cannot serve: no worker "
			    "connected to the database within %.0f s "
			    "(db_timeout %d s)%s%s; stopped",
			    conf->db_timeout + READY_MARGIN, conf->db_timeout,
			    m.reason[0] != '\0' ? ": " : "", m.reason);
			stopping = true;
			rc = 1;
			deadline = master_stop(&m, START_FAILED_GRACE);
			continue;
		} else {
			wake = now + 60.0;
			if (m.ready_fd != -1 && m.report[0] != -1 &&
			    m.ready_deadline < wake)
				wake = m.ready_deadline;
			for (i = 0; i < m.nslots; i++) {
				struct slot *s = &m.slots[i];

				if (s->pid != 0)
					continue;
				if (s->respawn_at <= now)
					master_spawn(&m, s);
				else if (s->respawn_at < wake)
					wake = s->respawn_at;
			}
			if (m.cache != NULL && m.conf->cache &&
			    m.listener.pid == 0) {
				if (m.listener.respawn_at <= now)
					master_spawn_listener(&m);
				else if (m.listener.respawn_at < wake)
					wake = m.listener.respawn_at;
			}
		}
		if (wake < now)
			wake = now;
		ts.tv_sec = (time_t)(wake - now);
		ts.tv_nsec = (long)((wake - now - (double)ts.tv_sec) * 1e9);
		sig = sigtimedwait(&m.sigs, &info, &ts);
		if (sig == -1)
			continue;	/* EAGAIN (time is up) or EINTR */
		switch (sig) {
		case SIGTERM:
		case SIGINT:
			if (stopping)
				break;
			log_info("master: %s: stopping; in-flight requests "
			    "have %ds", sig == SIGTERM ? "SIGTERM" : "SIGINT",
			    conf->shutdown_timeout);
			stopping = true;
			deadline = master_stop(&m, m.conf->shutdown_timeout);
			if (m.ready_fd != -1 && m.report[0] != -1) {
				master_start_failed(&m, "stopped by %s before "
				    "it was ready", sig == SIGTERM ? "SIGTERM" :
				    "SIGINT");
				rc = 1;
			}
			break;
		case SIGHUP:
			if (!stopping)
				master_reload(&m);
			break;
		default:
			/* SIGRTMIN (not a constant); SIGCHLD: reaped at the top */
			if (sig != SIGRTMIN || stopping ||
			    info.si_code != SI_QUEUE)
				break;
			master_on_ready(&m, info.si_pid);
			if (!master_on_start(&m, info.si_pid,
			    info.si_value.sival_int)) {
				stopping = true;
				rc = 1;
				deadline = master_stop(&m, START_FAILED_GRACE);
			}
			break;
		}
	}
	hashslots_destroy(m.slots_id);
	cache_destroy(m.cache);
	while (m.nold_ids > 0)
		hashslots_destroy(m.old_ids[--m.nold_ids]);
	master_stop_listening(&m);
	log_info("master: stopped");
	/* Under -d, when it was never ready: why, to the starting command. */
	if (m.ready_fd != -1)
		daemon_start_failed(m.ready_fd, m.why[0] != '\0' ? m.why :
		    "stopped before it was ready");
	return rc;
}
