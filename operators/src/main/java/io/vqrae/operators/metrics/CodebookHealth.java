package io.vqrae.operators.metrics;

/**
 * Codebook usage over a sliding window of the last {@code window} images and over the whole run, plus the
 * window's mean quantisation error and feature norm: whether the tokenizer still uses its codebook (a
 * collapsing codebook shows as falling utilisation and perplexity long before outputs look wrong).
 *
 * <p>Adding an image costs one increment per token and, once the window is full, one decrement per token of
 * the image it evicts; the figures are read from running counts. Thread-safe: the tokenizer subtasks of a
 * JVM share one instance per job and model.
 */
final class CodebookHealth {
    private final int codebookSize;
    private final int window;
    /** Token ids of the images in the window, a ring; null until the first image of a slot arrives. */
    private final int[][] ring;
    private final float[] ringQuantErrors;
    private final float[] ringFeatureNorms;
    private final long[] windowCounts;
    private final boolean[] usedInRun;
    private int next;
    private int filled;
    private int distinctInWindow;
    private int distinctInRun;
    private long tokensInWindow;
    private double quantErrorSum;
    private double featureNormSum;

    CodebookHealth(int codebookSize, int window) {
        this.codebookSize = codebookSize;
        this.window = window;
        this.ring = new int[window][];
        this.ringQuantErrors = new float[window];
        this.ringFeatureNorms = new float[window];
        this.windowCounts = new long[codebookSize];
        this.usedInRun = new boolean[codebookSize];
    }

    synchronized void add(int[] tokenIds, float meanQuantError, float meanFeatureNorm) {
        if (filled == window) {
            for (int id : ring[next]) {
                if (--windowCounts[id] == 0) {
                    distinctInWindow--;
                }
            }
            tokensInWindow -= ring[next].length;
            quantErrorSum -= ringQuantErrors[next];
            featureNormSum -= ringFeatureNorms[next];
        } else {
            filled++;
        }
        for (int id : tokenIds) {
            if (windowCounts[id]++ == 0) {
                distinctInWindow++;
            }
            if (!usedInRun[id]) {
                usedInRun[id] = true;
                distinctInRun++;
            }
        }
        ring[next] = tokenIds.clone();
        ringQuantErrors[next] = meanQuantError;
        ringFeatureNorms[next] = meanFeatureNorm;
        tokensInWindow += tokenIds.length;
        quantErrorSum += meanQuantError;
        featureNormSum += meanFeatureNorm;
        next = (next + 1) % window;
    }

    /** Each code's count in the window, a copy. */
    synchronized long[] windowCounts() {
        return windowCounts.clone();
    }

    /** A consistent reading of every figure. */
    synchronized Snapshot snapshot() {
        double entropy = 0;
        if (tokensInWindow > 0) {
            for (long count : windowCounts) {
                if (count > 0) {
                    double p = (double) count / tokensInWindow;
                    entropy -= p * Math.log(p);
                }
            }
        }
        double bits = entropy / Math.log(2);
        return new Snapshot(filled, distinctInWindow / (double) codebookSize, distinctInRun / (double) codebookSize,
                codebookSize - distinctInWindow, bits, Math.pow(2, bits),
                filled == 0 ? Double.NaN : quantErrorSum / filled, filled == 0 ? Double.NaN : featureNormSum / filled);
    }

    /**
     * The figures at one moment.
     *
     * @param images images in the window
     * @param windowUtilization distinct ids in the window / K
     * @param runUtilization distinct ids since the start / K
     * @param deadCodes codes not used in the window
     * @param entropyBits entropy of the window's id distribution
     * @param perplexity 2^entropy: how many codes are effectively in use
     * @param meanQuantError mean over the window of each image's mean quantisation error
     * @param meanFeatureNorm mean over the window of each image's mean token-feature L2 norm
     */
    record Snapshot(int images, double windowUtilization, double runUtilization, int deadCodes, double entropyBits,
            double perplexity, double meanQuantError, double meanFeatureNorm) {}
}
