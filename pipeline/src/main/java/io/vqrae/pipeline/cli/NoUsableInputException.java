package io.vqrae.pipeline.cli;

/**
 * A command ran to its end but none of its inputs could be used (each was reported with its reason as it was
 * met): {@code vqrae: MESSAGE}, exit 1 (docs/cli.md, "Inputs").
 */
public final class NoUsableInputException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** @param message what was missing, e.g. "no token grid in topic vqrae.tokens" */
    public NoUsableInputException(String message) {
        super(message);
    }

    /**
     * @param inputs how many inputs there were
     * @param where where their reasons are, e.g. "above" or "in out/corpus/dead-letters"
     */
    public NoUsableInputException(long inputs, String where) {
        super(inputs == 0 ? "no input was found in the files named"
                : (inputs == 1 ? "the input could not be used" : "none of the " + inputs + " inputs could be used") + " (reason" + (inputs == 1 ? "" : "s") + " " + where + ")");
    }
}
