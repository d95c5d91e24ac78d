package io.vqrae.pipeline.demo;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.vqrae.operators.report.RunReport;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * What the demo saw, read back from the committed outputs.
 *
 * @param imagesIn files loaded into the input topic
 * @param tokenRecords committed token records
 * @param featureRecords committed feature records
 * @param deadLetterRecords committed dead-letter records
 * @param deadLettersByReason dead letters per reason code
 * @param jobSeconds wall time of the Flink job, submission to finish
 * @param codebook codebook usage over the committed token records
 * @param meanQuantError mean of the records' mean quantisation errors
 * @param previewPsnr mean PSNR (dB) of the preview's reconstructions, or null without a preview
 * @param sampledPsnr mean PSNR (dB) of the job's sampled reconstructions ({@code metrics.psnr-every}), or null
 * @param modelId model id from the manifest
 * @param previewFile the reconstruction preview written, or null
 * @param codebookPlotFile the codebook-usage plot written, or null
 * @param metricsPort the port the run's Prometheus endpoint used, or -1
 * @param runReport CPU time per image by stage and the cost per million images, over the job's run in this JVM
 *     (broker and start-up included)
 */
public record DemoReport(
        int imagesIn,
        int tokenRecords,
        int featureRecords,
        int deadLetterRecords,
        SortedMap<String, Integer> deadLettersByReason,
        double jobSeconds,
        CodebookUsage codebook,
        double meanQuantError,
        Double previewPsnr,
        Double sampledPsnr,
        String modelId,
        Path previewFile,
        Path codebookPlotFile,
        int metricsPort,
        RunReport runReport) {

    public DemoReport {
        deadLettersByReason = new TreeMap<>(deadLettersByReason);
    }

    public double imagesPerSecond() {
        return jobSeconds > 0 ? imagesIn / jobSeconds : 0;
    }

    /** The machine-readable form; top-level field names are a stable interface for scripts. */
    public Map<String, Object> toJson() {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("images_in", imagesIn);
        json.put("token_records", tokenRecords);
        json.put("feature_records", featureRecords);
        json.put("dead_letter_records", deadLetterRecords);
        json.put("dead_letter_reasons", deadLettersByReason);
        json.put("images_per_second", round(imagesPerSecond()));
        json.put("job_seconds", round(jobSeconds));
        json.put("codebook_utilization", round(codebook.utilization()));
        json.put("codebook_used_codes", codebook.usedCodes());
        json.put("codebook_dead_codes", codebook.deadCodes());
        json.put("codebook_perplexity", round(codebook.perplexity()));
        json.put("mean_quant_error", round(meanQuantError));
        json.put("preview_psnr_db", previewPsnr == null ? null : round(previewPsnr));
        json.put("sampled_psnr_db", sampledPsnr == null ? null : round(sampledPsnr));
        json.put("model_id", modelId);
        json.put("preview_png", previewFile == null ? null : previewFile.toString());
        json.put("codebook_png", codebookPlotFile == null ? null : codebookPlotFile.toString());
        json.put("run_report", runReport.toJson());
        return json;
    }

    public void writeJson(Path file) {
        try {
            Path parent = file.toAbsolutePath().getParent();
            Files.createDirectories(parent);
            new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(file.toFile(), toJson());
        } catch (IOException e) {
            throw new UncheckedIOException("Could not write " + file, e);
        }
    }

    /** The human summary printed at the end of the demo. */
    public String summary() {
        StringBuilder s = new StringBuilder();
        s.append(String.format(Locale.ROOT, "images in:            %d%n", imagesIn));
        s.append(String.format(Locale.ROOT, "token records:        %d%n", tokenRecords));
        s.append(String.format(Locale.ROOT, "feature records:      %d%n", featureRecords));
        s.append(String.format(Locale.ROOT, "dead-letter records:  %d %s%n", deadLetterRecords, deadLettersByReason));
        s.append(String.format(Locale.ROOT, "throughput:           %.1f images/s (job %.1f s, incl. start-up)%n", imagesPerSecond(), jobSeconds));
        s.append(String.format(Locale.ROOT, "codebook utilization: %.2f%% (%s: %d of %d codes used, perplexity %.1f)%n",
                100 * codebook.utilization(), modelId, codebook.usedCodes(), codebook.codebookSize(), codebook.perplexity()));
        s.append(String.format(Locale.ROOT, "mean quant error:     %.4f%n", meanQuantError));
        if (previewPsnr != null) {
            s.append(String.format(Locale.ROOT, "preview PSNR:         %.2f dB (mean of the preview's reconstructions)%n", previewPsnr));
        }
        if (sampledPsnr != null) {
            s.append(String.format(Locale.ROOT, "sampled PSNR:         %.2f dB (metrics.psnr-every)%n", sampledPsnr));
        }
        if (previewFile != null) {
            s.append(String.format(Locale.ROOT, "preview:              %s%n", previewFile));
        }
        if (codebookPlotFile != null) {
            s.append(String.format(Locale.ROOT, "codebook plot:        %s%n", codebookPlotFile));
        }
        s.append(runReport.summary());
        return s.toString();
    }

    private static double round(double v) {
        return Math.round(v * 10_000) / 10_000.0;
    }
}
