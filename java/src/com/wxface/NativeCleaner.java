package com.wxface;

import java.lang.ref.PhantomReference;
import java.lang.ref.ReferenceQueue;
import java.util.Collections;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A minimal {@code java.lang.ref.Cleaner}: runs an action once, either when {@link Ref#clean()}
 * is called or after the owner became phantom-reachable. {@code java.lang.ref.Cleaner} itself
 * needs Android API 33, so this one is built on {@link PhantomReference}, available everywhere.
 * It is the safety net for clients that are never closed, not the main path.
 */
final class NativeCleaner {
    private static final ReferenceQueue<Object> QUEUE = new ReferenceQueue<Object>();
    /** Keeps the references themselves reachable until they are cleaned. */
    private static final Set<Ref> LIVE =
            Collections.newSetFromMap(new ConcurrentHashMap<Ref, Boolean>());
    private static boolean started;

    private NativeCleaner() {}

    /** Registers {@code action} to run once {@code owner} is unreachable (or on clean()). */
    static Ref register(Object owner, Runnable action) {
        Ref ref = new Ref(owner, action);
        LIVE.add(ref);
        startDaemon();
        return ref;
    }

    private static synchronized void startDaemon() {
        if (started) {
            return;
        }
        Thread t = new Thread(new Runnable() {
            @Override
            public void run() {
                while (true) {
                    try {
                        ((Ref) QUEUE.remove()).clean();
                    } catch (Throwable ignored) {
                        // Keep the daemon alive: one failing action must not stop the others.
                    }
                }
            }
        }, "wxface-cleaner");
        t.setDaemon(true);
        t.start();
        started = true;
    }

    static final class Ref extends PhantomReference<Object> {
        private final Runnable action;
        private final AtomicBoolean done = new AtomicBoolean();

        private Ref(Object owner, Runnable action) {
            super(owner, QUEUE);
            this.action = action;
        }

        /** Runs the action if it has not run yet; later calls do nothing. */
        void clean() {
            if (done.compareAndSet(false, true)) {
                LIVE.remove(this);
                clear();
                action.run();
            }
        }
    }
}
