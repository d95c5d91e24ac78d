/**
 * What every configuration record of the project shares: the exception a record's constructor throws for a
 * bad value, naming the setting in configuration spelling.
 */
package io.vqrae.models.config;
