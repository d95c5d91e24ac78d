package io.vqrae.pipeline.cli;

import io.vqrae.models.onnx.ExecutionProvider;
import picocli.CommandLine.ITypeConverter;

/** Lets {@code --provider} take {@code cpu}/{@code cuda} in any case. */
final class ProviderConverter implements ITypeConverter<ExecutionProvider> {
    @Override
    public ExecutionProvider convert(String value) {
        return ExecutionProvider.parse(value);
    }
}
