// Pickle module: see PythonValue.swift
