package io.vqrae.pipeline.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicReference;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * Turns Ctrl-C (SIGINT) and SIGTERM into a graceful stop: the first one runs {@code stop} on a thread of its
 * own instead of ending the JVM (whose shutdown would take the local Flink cluster down mid-checkpoint); a
 * second one ends the JVM at once, leaving the last completed checkpoint to resume from. {@code sun.misc.Signal}
 * is the JDK's only way to handle a signal without starting shutdown, and is supported for that
 * ({@code jdk.unsupported}).
 */
final class StopOnSignal implements AutoCloseable {
    private final AtomicReference<String> received = new AtomicReference<>();
    private final List<Signal> signals = new ArrayList<>();
    private final List<SignalHandler> previous = new ArrayList<>();

    private StopOnSignal() {}

    /** Handles INT and TERM until closed; {@code stop} runs once, on the first. */
    static StopOnSignal install(Runnable stop, Runnable secondSignal) {
        StopOnSignal handler = new StopOnSignal();
        for (String name : List.of("INT", "TERM")) {
            Signal signal = new Signal(name);
            handler.signals.add(signal);
            handler.previous.add(Signal.handle(signal, s -> {
                if (handler.received.compareAndSet(null, s.getName())) {
                    Thread stopper = new Thread(stop, "vqrae-stop-on-" + s.getName().toLowerCase(Locale.ROOT));
                    stopper.setDaemon(true);
                    stopper.start();
                } else {
                    secondSignal.run();
                    Runtime.getRuntime().halt(exitCode(s.getName()));
                }
            }));
        }
        return handler;
    }

    /** The signal received, or null. */
    String received() {
        return received.get();
    }

    /** The shell's exit code for a process ended by {@code signal}: 128 + its number. */
    static int exitCode(String signal) {
        return "TERM".equals(signal) ? 143 : 130;
    }

    @Override
    public void close() {
        for (int i = 0; i < signals.size(); i++) {
            Signal.handle(signals.get(i), previous.get(i));
        }
    }
}
