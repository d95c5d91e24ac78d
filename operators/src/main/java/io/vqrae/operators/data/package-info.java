/**
 * The elements that flow between the pipeline's stages. All are records of primitives, strings, byte
 * arrays and enums, so Flink serializes them with its POJO serializer (never Kryo) and they cross
 * operator boundaries without module-access problems.
 */
package io.vqrae.operators.data;
