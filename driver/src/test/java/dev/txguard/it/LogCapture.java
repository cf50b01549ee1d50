package dev.txguard.it;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/** Collects what txguard logs (System.Logger, backed by java.util.logging in these tests), the agent's too. */
public final class LogCapture extends Handler implements AutoCloseable {

    private static final Logger TXGUARD = Logger.getLogger("dev.txguard");
    public final List<String> messages = new CopyOnWriteArrayList<>();
    public final List<LogRecord> records = new CopyOnWriteArrayList<>();

    /** Warnings txguard says once per call site are said again from here on, for the capture to see them. */
    public static LogCapture start() {
        dev.txguard.internal.EngineProbe.forgetWhatWasSaidOnce();
        LogCapture capture = new LogCapture();
        TXGUARD.addHandler(capture);
        return capture;
    }

    long count(String fragment) {
        return messages.stream().filter(m -> m.contains(fragment)).count();
    }

    String all() {
        return String.join("\n", messages);
    }

    @Override
    public void publish(LogRecord record) {
        messages.add(record.getMessage());
        records.add(record);
    }

    @Override
    public void flush() {}

    @Override
    public void close() {
        TXGUARD.removeHandler(this);
    }
}
