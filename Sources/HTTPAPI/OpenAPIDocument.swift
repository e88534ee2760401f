/// The OpenAPI 3.1 description of the API, served at `GET /openapi.json`.
///
/// Hand-written JSON (not generated from the router), so the test that compares it with the
/// router's routes catches a route added to one and forgotten in the other.
public enum OpenAPIDocument {
    /// The document as JSON text.
    public static let text: String = #"""
    {
      "openapi": "3.1.0",
      "info": {
        "title": "resume-processor API",
        "version": "1.0.0",
        "description": "Upload résumés for a job post; they are stored, queued and scored in the background. Errors are always {\"error\": {\"code\", \"message\", \"fields\"?}}. When API_KEY is set, every route but /health needs Authorization: Bearer <key> or X-API-Key."
      },
      "servers": [{"url": "http://127.0.0.1:8000"}],
      "security": [{"bearer": []}, {"apiKey": []}],
      "paths": {
        "/resumes/upload": {
          "post": {
            "operationId": "uploadResume",
            "summary": "Upload a résumé (PDF, DOCX or TXT, decided by magic bytes) and queue its processing",
            "requestBody": {
              "required": true,
              "content": {
                "multipart/form-data": {
                  "schema": {
                    "type": "object",
                    "required": ["file", "candidate_name", "candidate_email", "job_post_id", "seniority_level"],
                    "properties": {
                      "file": {"type": "string", "contentMediaType": "application/octet-stream", "description": "A PDF, DOCX, plain-text file, or a PNG/JPEG/TIFF image (judged by its bytes) of at most MAX_UPLOAD_BYTES (default 10485760) bytes; an image of at most MAX_IMAGE_PIXELS (default 50000000) pixels a page"},
                      "candidate_name": {"type": "string", "minLength": 1, "maxLength": 200},
                      "candidate_email": {"type": "string", "format": "email", "maxLength": 254},
                      "job_post_id": {"type": "string", "format": "uuid"},
                      "seniority_level": {"$ref": "#/components/schemas/SeniorityLevel"}
                    }
                  }
                }
              }
            },
            "responses": {
              "202": {"description": "Stored and queued", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/UploadAccepted"}}}},
              "400": {"$ref": "#/components/responses/Error"},
              "401": {"$ref": "#/components/responses/Error"},
              "404": {"$ref": "#/components/responses/Error"},
              "408": {"$ref": "#/components/responses/Error"},
              "413": {"$ref": "#/components/responses/Error"},
              "415": {"$ref": "#/components/responses/Error"},
              "422": {"$ref": "#/components/responses/Error"},
              "503": {"$ref": "#/components/responses/Error"}
            }
          }
        },
        "/resumes/{application_id}": {
          "get": {
            "operationId": "getResume",
            "summary": "Status and results of one application",
            "parameters": [{"name": "application_id", "in": "path", "required": true, "schema": {"type": "string", "format": "uuid"}}],
            "responses": {
              "200": {"description": "The application", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ApplicationDetail"}}}},
              "401": {"$ref": "#/components/responses/Error"},
              "404": {"$ref": "#/components/responses/Error"},
              "422": {"$ref": "#/components/responses/Error"}
            }
          }
        },
        "/job-posts": {
          "post": {
            "operationId": "createJobPost",
            "summary": "Create a job post",
            "requestBody": {
              "required": true,
              "content": {"application/json": {"schema": {
                "type": "object",
                "required": ["title", "description", "seniority_level"],
                "properties": {
                  "title": {"type": "string", "minLength": 1, "maxLength": 200},
                  "description": {"type": "string", "minLength": 1, "maxLength": 20000},
                  "seniority_level": {"$ref": "#/components/schemas/SeniorityLevel"}
                }
              }}}
            },
            "responses": {
              "201": {"description": "Created", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/JobPost"}}}},
              "400": {"$ref": "#/components/responses/Error"},
              "401": {"$ref": "#/components/responses/Error"},
              "413": {"$ref": "#/components/responses/Error"},
              "415": {"$ref": "#/components/responses/Error"},
              "422": {"$ref": "#/components/responses/Error"}
            }
          },
          "get": {
            "operationId": "listJobPosts",
            "summary": "Job posts, newest first",
            "parameters": [{"$ref": "#/components/parameters/limit"}, {"$ref": "#/components/parameters/cursor"}],
            "responses": {
              "200": {"description": "A page", "content": {"application/json": {"schema": {"type": "object", "properties": {
                "items": {"type": "array", "items": {"$ref": "#/components/schemas/JobPost"}},
                "next_cursor": {"type": ["string", "null"]}
              }}}}},
              "401": {"$ref": "#/components/responses/Error"},
              "422": {"$ref": "#/components/responses/Error"}
            }
          }
        },
        "/job-posts/{id}": {
          "get": {
            "operationId": "getJobPost",
            "summary": "One job post",
            "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string", "format": "uuid"}}],
            "responses": {
              "200": {"description": "The job post", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/JobPost"}}}},
              "401": {"$ref": "#/components/responses/Error"},
              "404": {"$ref": "#/components/responses/Error"},
              "422": {"$ref": "#/components/responses/Error"}
            }
          }
        },
        "/job-posts/{id}/candidates": {
          "get": {
            "operationId": "listCandidates",
            "summary": "COMPLETED applications of a job post ranked by match_score, highest first",
            "parameters": [
              {"name": "id", "in": "path", "required": true, "schema": {"type": "string", "format": "uuid"}},
              {"$ref": "#/components/parameters/limit"}, {"$ref": "#/components/parameters/cursor"}
            ],
            "responses": {
              "200": {"description": "A page", "content": {"application/json": {"schema": {"type": "object", "properties": {
                "job_post_id": {"type": "string", "format": "uuid"},
                "items": {"type": "array", "items": {"$ref": "#/components/schemas/Candidate"}},
                "next_cursor": {"type": ["string", "null"]}
              }}}}},
              "401": {"$ref": "#/components/responses/Error"},
              "404": {"$ref": "#/components/responses/Error"},
              "422": {"$ref": "#/components/responses/Error"}
            }
          }
        },
        "/applications": {
          "get": {
            "operationId": "listApplications",
            "summary": "Applications, newest first, filtered",
            "parameters": [
              {"name": "status", "in": "query", "schema": {"$ref": "#/components/schemas/ApplicationStatus"}},
              {"name": "job_post_id", "in": "query", "schema": {"type": "string", "format": "uuid"}},
              {"name": "email", "in": "query", "schema": {"type": "string", "maxLength": 254}},
              {"name": "created_after", "in": "query", "schema": {"type": "string", "format": "date-time"}},
              {"$ref": "#/components/parameters/limit"}, {"$ref": "#/components/parameters/cursor"}
            ],
            "responses": {
              "200": {"description": "A page", "content": {"application/json": {"schema": {"type": "object", "properties": {
                "items": {"type": "array", "items": {"$ref": "#/components/schemas/ApplicationDetail"}},
                "next_cursor": {"type": ["string", "null"]}
              }}}}},
              "401": {"$ref": "#/components/responses/Error"},
              "422": {"$ref": "#/components/responses/Error"}
            }
          }
        },
        "/jobs/{job_id}": {
          "get": {
            "operationId": "getJob",
            "summary": "Queue-level status of a job (native job:{id} hash or RQ job, per QUEUE_MODE)",
            "parameters": [{"name": "job_id", "in": "path", "required": true, "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,128}$"}}],
            "responses": {
              "200": {"description": "The job", "content": {"application/json": {"schema": {"type": "object", "required": ["job_id", "mode", "status"], "properties": {
                "job_id": {"type": "string"}, "mode": {"type": "string", "enum": ["native", "rq"]}, "status": {"type": "string"}
              }}}}},
              "401": {"$ref": "#/components/responses/Error"},
              "404": {"$ref": "#/components/responses/Error"},
              "422": {"$ref": "#/components/responses/Error"},
              "503": {"$ref": "#/components/responses/Error"}
            }
          }
        },
        "/health": {
          "get": {
            "operationId": "health",
            "summary": "The process is up (no dependency checks, no API key)",
            "security": [],
            "responses": {"200": {"description": "Up", "content": {"application/json": {"schema": {"type": "object", "properties": {"status": {"const": "ok"}}}}}}}
          }
        },
        "/ready": {
          "get": {
            "operationId": "ready",
            "summary": "Redis PING and PostgreSQL SELECT 1 answer within the readiness timeout",
            "responses": {
              "200": {"description": "Ready", "content": {"application/json": {"schema": {"type": "object", "properties": {"status": {"const": "ready"}, "checks": {"type": "object"}}}}}},
              "401": {"$ref": "#/components/responses/Error"},
              "503": {"$ref": "#/components/responses/Error"}
            }
          }
        },
        "/metrics": {
          "get": {
            "operationId": "metrics",
            "summary": "Prometheus text exposition",
            "responses": {
              "200": {"description": "Metrics", "content": {"text/plain": {"schema": {"type": "string"}}}},
              "401": {"$ref": "#/components/responses/Error"}
            }
          }
        },
        "/openapi.json": {
          "get": {
            "operationId": "openapi",
            "summary": "This document",
            "responses": {
              "200": {"description": "OpenAPI 3.1", "content": {"application/json": {"schema": {"type": "object"}}}},
              "401": {"$ref": "#/components/responses/Error"}
            }
          }
        }
      },
      "components": {
        "securitySchemes": {
          "bearer": {"type": "http", "scheme": "bearer"},
          "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"}
        },
        "parameters": {
          "limit": {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}},
          "cursor": {"name": "cursor", "in": "query", "description": "next_cursor of the previous page (opaque)", "schema": {"type": "string"}}
        },
        "responses": {
          "Error": {"description": "An error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
        },
        "schemas": {
          "SeniorityLevel": {"type": "string", "enum": ["JUNIOR", "MID", "SENIOR", "LEAD"]},
          "ApplicationStatus": {"type": "string", "enum": ["PENDING", "PROCESSING", "COMPLETED", "FAILED"]},
          "Error": {
            "type": "object",
            "required": ["error"],
            "properties": {"error": {"type": "object", "required": ["code", "message"], "properties": {
              "code": {"type": "string"}, "message": {"type": "string"},
              "fields": {"type": "object", "additionalProperties": {"type": "string"}}
            }}}
          },
          "UploadAccepted": {
            "type": "object",
            "required": ["application_id", "job_id", "status", "message"],
            "properties": {
              "application_id": {"type": "string", "format": "uuid"}, "job_id": {"type": "string"},
              "status": {"const": "PENDING"}, "message": {"type": "string"}
            }
          },
          "JobPost": {
            "type": "object",
            "properties": {
              "id": {"type": "string", "format": "uuid"}, "title": {"type": "string"}, "description": {"type": "string"},
              "seniority_level": {"$ref": "#/components/schemas/SeniorityLevel"},
              "created_at": {"type": "string", "format": "date-time"}, "updated_at": {"type": "string", "format": "date-time"}
            }
          },
          "Candidate": {
            "type": "object",
            "properties": {
              "application_id": {"type": "string", "format": "uuid"}, "candidate_name": {"type": "string"},
              "candidate_email": {"type": "string"}, "seniority_level": {"$ref": "#/components/schemas/SeniorityLevel"},
              "match_score": {"type": ["number", "null"]}, "processed_at": {"type": ["string", "null"], "format": "date-time"}
            }
          },
          "ApplicationDetail": {
            "type": "object",
            "properties": {
              "application_id": {"type": "string", "format": "uuid"}, "job_id": {"type": "string"},
              "job_post_id": {"type": "string", "format": "uuid"}, "candidate_name": {"type": "string"},
              "candidate_email": {"type": "string"}, "seniority_level": {"$ref": "#/components/schemas/SeniorityLevel"},
              "status": {"$ref": "#/components/schemas/ApplicationStatus"}, "original_filename": {"type": ["string", "null"]},
              "content_type": {"type": ["string", "null"]}, "file_size": {"type": ["integer", "null"]},
              "file_sha256": {"type": ["string", "null"]}, "match_score": {"type": ["number", "null"]},
              "error_message": {"type": ["string", "null"]}, "attempts": {"type": "integer"},
              "created_at": {"type": "string", "format": "date-time"}, "updated_at": {"type": "string", "format": "date-time"},
              "processed_at": {"type": ["string", "null"], "format": "date-time"},
              "text_length": {"type": ["integer", "null"], "description": "GET /resumes/{id} only"},
              "text_preview": {"type": ["string", "null"], "description": "First 300 characters; GET /resumes/{id} only"}
            }
          }
        }
      }
    }
    """#
}
