package io.vqrae.operators.data;

import static org.assertj.core.api.Assertions.assertThat;

import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.java.typeutils.GenericTypeInfo;
import org.apache.flink.api.java.typeutils.PojoTypeInfo;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The elements that flow between stages are Flink POJOs down to their fields (nested records, enums): never Kryo. */
class ElementTypesTest {

    @ParameterizedTest
    @ValueSource(classes = {InputImage.class, PreprocessedImage.class, TokenizedImage.class, Rejection.class})
    void elementType_isAPojoWithoutGenericFields(Class<?> type) {
        assertThat(TypeInformation.of(type)).isInstanceOf(PojoTypeInfo.class);
        PojoTypeInfo<?> pojo = (PojoTypeInfo<?>) TypeInformation.of(type);
        for (int i = 0; i < pojo.getArity(); i++) {
            assertThat(pojo.getPojoFieldAt(i).getTypeInformation()).as(type.getSimpleName() + "." + pojo.getPojoFieldAt(i).getField().getName())
                    .isNotInstanceOf(GenericTypeInfo.class);
        }
    }
}
