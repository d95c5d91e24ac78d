package io.vqrae.pipeline.tools;

import static org.assertj.core.api.Assertions.assertThat;

import io.vqrae.pipeline.cli.ModelOption;
import io.vqrae.pipeline.cli.SetOption;
import java.lang.reflect.Field;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

/** {@code --model} and {@code --set} are declared once each, and every command of bin/vqrae takes them from there. */
class SharedOptionsTest {

    @Test
    void everyModelAndSetOptionIsTheOneMixinsDeclaration() {
        Map<String, Set<String>> commandsByDeclaration = new TreeMap<>();
        for (Map.Entry<String, CommandLine> command : ToolsCli.commandLine().getSubcommands().entrySet()) {
            for (String name : new String[] {"--model", "--set"}) {
                OptionSpec option = command.getValue().getCommandSpec().findOption(name);
                if (option != null) {
                    Field field = (Field) option.userObject();
                    commandsByDeclaration.computeIfAbsent(name + " in " + field.getDeclaringClass().getSimpleName(), k -> new TreeSet<>())
                            .add(command.getKey());
                }
            }
        }

        assertThat(commandsByDeclaration).containsExactly(
                Map.entry("--model in " + ModelOption.class.getSimpleName(),
                        Set.of("bench", "demo", "detokenize", "reconstruct", "tokenize", "tokenize-corpus")),
                Map.entry("--set in " + SetOption.class.getSimpleName(),
                        Set.of("bench", "demo", "detokenize", "load", "reconstruct", "run", "tokenize", "tokenize-corpus")));
    }
}
